/**
 * The request log: one `requests` row per gateway request, written in batches (one transaction every
 * flush interval, or sooner when many are waiting) so that recording costs the request path nothing
 * but an array push. Rows still queued at shutdown are written by `close`.
 *
 * A batch that cannot be written (a full disk, a locked database) stays queued and is tried again at
 * the next flush, so the log loses nothing while the problem lasts up to MAX_HELD rows; beyond that the
 * oldest rows are dropped, counted and logged (memory must stay bounded on a box left running).
 */

import type { FastifyBaseLogger } from "fastify";
import type { Insertable, Kysely } from "kysely";
import type { RequestsTable, StudioDatabase } from "../db/schema.js";

export type RequestRow = Insertable<RequestsTable>;

const MAX_QUEUED = 500;
const MAX_HELD = 100_000;
const RETRY_MS = 2000;

export class RequestRecorder {
  private queue: RequestRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(row: RequestRow) => void>();
  /** Rows dropped because writes kept failing and more than MAX_HELD waited. */
  dropped = 0;
  /** The last write error, null once a write succeeds again. */
  lastError: string | null = null;

  constructor(
    private readonly db: Kysely<StudioDatabase>,
    private readonly log: FastifyBaseLogger,
    private readonly flushMs = 200,
  ) {}

  record(row: RequestRow): void {
    this.queue.push(row);
    for (const listener of this.listeners) listener(row);
    if (this.queue.length >= MAX_QUEUED) void this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Rows waiting to be written (including those held after a failed write). */
  get queued(): number {
    return this.queue.length;
  }

  /** Called with every row as it is recorded (before it is written). */
  onRecord(listener: (row: RequestRow) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes what is queued; resolves once it is in the database (or the write failed and is held). */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const rows = this.queue;
    this.queue = [];
    if (rows.length === 0) return this.writing;
    this.writing = this.writing.then(async () => {
      try {
        await this.db.transaction().execute(async (trx) => {
          for (let i = 0; i < rows.length; i += 50) {
            await trx
              .insertInto("requests")
              .values(rows.slice(i, i + 50))
              .execute();
          }
        });
        if (this.lastError !== null) this.log.info({ rows: rows.length }, "request log writable again");
        this.lastError = null;
      } catch (error) {
        this.hold(rows, error);
      }
    });
    return this.writing;
  }

  /** Puts a batch that failed back in front of the queue and schedules a retry. */
  private hold(rows: RequestRow[], error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.lastError === null) {
      this.log.error({ err: error, rows: rows.length }, "could not write the request log; holding the rows");
    }
    this.lastError = message;
    this.queue = [...rows, ...this.queue];
    const excess = this.queue.length - MAX_HELD;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.dropped += excess;
      this.log.error({ dropped: excess }, "request log: rows dropped after failed writes");
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), RETRY_MS);
      this.timer.unref();
    }
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
