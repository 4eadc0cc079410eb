/**
 * The request log: one `requests` row per gateway request, written in batches (one transaction every
 * flush interval, or sooner when many are waiting) so that recording costs the request path nothing
 * but an array push. Rows still queued at shutdown are written by `close`.
 */

import type { FastifyBaseLogger } from "fastify";
import type { Insertable, Kysely } from "kysely";
import type { RequestsTable, StudioDatabase } from "../db/schema.js";

export type RequestRow = Insertable<RequestsTable>;

const MAX_QUEUED = 500;

export class RequestRecorder {
  private queue: RequestRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(row: RequestRow) => void>();

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

  /** Called with every row as it is recorded (before it is written). */
  onRecord(listener: (row: RequestRow) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes what is queued; resolves once it is in the database. */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const rows = this.queue;
    this.queue = [];
    if (rows.length === 0) return this.writing;
    this.writing = this.writing.then(() =>
      this.db
        .transaction()
        .execute(async (trx) => {
          for (let i = 0; i < rows.length; i += 50) {
            await trx
              .insertInto("requests")
              .values(rows.slice(i, i + 50))
              .execute();
          }
        })
        .catch((error: unknown) => {
          this.log.error({ err: error, rows: rows.length }, "could not record gateway requests");
        }),
    );
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
