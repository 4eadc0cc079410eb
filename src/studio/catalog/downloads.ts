/**
 * Model downloads into the Hugging Face cache, run as jobs (the runtime's downloadToCache, as
 * `servepilot cache download` uses it). Each job is a row of `downloads`; progress is published on
 * the event bus as `download` events, at most two per second per job, plus one for every change of
 * status. A cancel aborts the runtime download, which removes the partial file of the blob in flight.
 */
import { randomBytes } from "node:crypto";
import { ServepilotError } from "../../core/errors.js";
import { downloadToCache } from "../../runtime/cache/download-to-cache.js";
import { resolveSourceSettings } from "../../runtime/models/source-settings.js";
import type { StudioContext } from "../context.js";
import { nowIso } from "../db/database.js";
import type { DownloadsTable } from "../db/schema.js";

export type DownloadStatus = DownloadsTable["status"];

export interface DownloadRequest {
  repo: string;
  revision?: string | undefined;
  include?: string[] | undefined;
  exclude?: string[] | undefined;
}

export interface DownloadJob {
  id: string;
  repo: string;
  revision: string;
  status: DownloadStatus;
  bytesDone: number;
  bytesTotal: number | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** Downloads running at once; the rest wait as `queued`. */
export const MAX_CONCURRENT_DOWNLOADS = 2;
/** Minimum time between two progress events of one job (ms): at most 2 per second. */
export const PROGRESS_INTERVAL_MS = 500;

interface Active {
  job: DownloadJob;
  request: DownloadRequest;
  controller: AbortController;
  /** Settles when the job has reached a final status. */
  done: Promise<void>;
  settle: () => void;
  lastProgressAt: number;
}

function toJob(row: DownloadsTable): DownloadJob {
  return {
    id: row.id,
    repo: row.repo,
    revision: row.revision,
    status: row.status,
    bytesDone: row.bytes_done,
    bytesTotal: row.bytes_total,
    error: row.error,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

export class DownloadJobs {
  private readonly active = new Map<string, Active>();
  private running = 0;

  constructor(
    private readonly ctx: StudioContext,
    private readonly now: () => number = Date.now,
  ) {}

  /** Jobs left queued or running by a previous studio process can no longer finish. */
  async recover(): Promise<void> {
    await this.ctx.db
      .updateTable("downloads")
      .set({
        status: "failed",
        error: "interrupted: the studio stopped during the download",
        finished_at: nowIso(),
      })
      .where("status", "in", ["queued", "running"])
      .execute();
  }

  async start(request: DownloadRequest): Promise<DownloadJob> {
    const revision = request.revision ?? "main";
    const settings = await resolveSourceSettings({
      env: this.ctx.env,
      ...(this.ctx.env.HOME ? { homeDir: this.ctx.env.HOME } : {}),
    });
    if (settings.offlineReason) {
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        `cannot download ${request.repo}: ${settings.offlineReason}`,
        {
          hint: "unset HF_HUB_OFFLINE in the studio's environment to allow downloads",
        },
      );
    }
    for (const other of this.active.values()) {
      if (other.job.repo === request.repo && other.job.revision === revision) {
        throw new ServepilotError(
          "CONFLICT",
          `${request.repo}@${revision} is already being downloaded (${other.job.id})`,
          {
            details: { id: other.job.id },
          },
        );
      }
    }
    const job: DownloadJob = {
      id: `dl-${randomBytes(6).toString("hex")}`,
      repo: request.repo,
      revision,
      status: "queued",
      bytesDone: 0,
      bytesTotal: null,
      error: null,
      createdAt: nowIso(this.now()),
      finishedAt: null,
    };
    await this.ctx.db
      .insertInto("downloads")
      .values({
        id: job.id,
        repo: job.repo,
        revision: job.revision,
        status: job.status,
        bytes_done: 0,
        bytes_total: null,
        error: null,
        created_at: job.createdAt,
        finished_at: null,
      })
      .execute();
    let settle = () => {};
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.active.set(job.id, {
      job,
      request,
      controller: new AbortController(),
      done,
      settle,
      lastProgressAt: Number.NEGATIVE_INFINITY,
    });
    this.publish(job);
    this.pump();
    return { ...job };
  }

  async list(): Promise<DownloadJob[]> {
    const rows = await this.ctx.db
      .selectFrom("downloads")
      .selectAll()
      .orderBy("created_at", "desc")
      .execute();
    return rows.map((row) => this.active.get(row.id)?.job ?? toJob(row)).map((job) => ({ ...job }));
  }

  async get(id: string): Promise<DownloadJob> {
    const live = this.active.get(id);
    if (live) return { ...live.job };
    const row = await this.ctx.db.selectFrom("downloads").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new ServepilotError("NOT_FOUND", `no download ${id}`, { details: { id } });
    return toJob(row);
  }

  /** Cancels a queued or running job and waits until it has stopped. */
  async cancel(id: string): Promise<DownloadJob> {
    const live = this.active.get(id);
    if (!live) {
      const job = await this.get(id);
      throw new ServepilotError("CONFLICT", `download ${id} has already ended (${job.status})`, {
        details: { id, status: job.status },
      });
    }
    if (live.job.status === "queued") {
      await this.finish(live, "cancelled", null);
    } else {
      live.controller.abort(new DOMException("cancelled", "AbortError"));
      await live.done;
    }
    return this.get(id);
  }

  counts(): { running: number; queued: number; jobs: DownloadJob[] } {
    const jobs = [...this.active.values()].map((a) => ({ ...a.job }));
    return {
      running: jobs.filter((j) => j.status === "running").length,
      queued: jobs.filter((j) => j.status === "queued").length,
      jobs,
    };
  }

  /** The queued or running job of a repo (any revision), if one: its files must not be deleted under it. */
  activeFor(repo: string): DownloadJob | null {
    for (const live of this.active.values()) {
      if (live.job.repo.toLowerCase() === repo.toLowerCase()) return { ...live.job };
    }
    return null;
  }

  /** Cancels everything at shutdown (the database is closed next). */
  async stopAll(): Promise<void> {
    const all = [...this.active.values()];
    for (const live of all) {
      if (live.job.status === "queued") await this.finish(live, "cancelled", "the studio stopped");
      else live.controller.abort(new DOMException("the studio stopped", "AbortError"));
    }
    await Promise.all(all.map((live) => live.done));
  }

  private pump(): void {
    for (const live of this.active.values()) {
      if (this.running >= MAX_CONCURRENT_DOWNLOADS || this.ctx.closing) return;
      if (live.job.status !== "queued") continue;
      this.running++;
      void this.run(live).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(live: Active): Promise<void> {
    const { job, request, controller } = live;
    job.status = "running";
    await this.save(job);
    this.publish(job);
    let base = 0;
    try {
      await downloadToCache(job.repo, {
        env: this.ctx.env,
        ...(this.ctx.env.HOME ? { homeDir: this.ctx.env.HOME } : {}),
        revision: job.revision,
        include: request.include ?? [],
        exclude: request.exclude ?? [],
        signal: controller.signal,
        onPlan: (plan) => {
          // bytes already cached (or partly downloaded) count as done: progress covers the whole selection
          base = plan.totalBytes - plan.neededBytes;
          job.bytesTotal = plan.totalBytes;
          job.bytesDone = base;
          this.progress(live, true);
        },
        onProgress: (p) => {
          job.bytesDone = base + p.doneBytes;
          this.progress(live, false);
        },
      });
      job.bytesDone = job.bytesTotal ?? job.bytesDone;
      await this.finish(live, "done", null);
    } catch (error) {
      if (controller.signal.aborted) {
        const reason = controller.signal.reason as { message?: unknown } | undefined;
        const message =
          typeof reason?.message === "string" && reason.message !== "cancelled" ? reason.message : null;
        await this.finish(live, "cancelled", message);
      } else {
        const message = error instanceof Error ? error.message : String(error);
        this.ctx.log.warn({ err: error, download: job.id, repo: job.repo }, "download failed");
        await this.finish(live, "failed", message);
      }
    }
  }

  /** Publishes progress unless this job published less than PROGRESS_INTERVAL_MS ago. */
  private progress(live: Active, force: boolean): void {
    const now = this.now();
    if (!force && now - live.lastProgressAt < PROGRESS_INTERVAL_MS) return;
    live.lastProgressAt = now;
    this.publish(live.job);
    void this.save(live.job).catch((error: unknown) =>
      this.ctx.log.warn({ err: error, download: live.job.id }, "download progress not saved"),
    );
  }

  private async finish(live: Active, status: DownloadStatus, error: string | null): Promise<void> {
    const { job } = live;
    job.status = status;
    job.error = error;
    job.finishedAt = nowIso(this.now());
    try {
      await this.save(job);
    } finally {
      // removed only once saved: until then get() answers from memory, never from a stale row
      this.active.delete(job.id);
      this.publish(job);
      live.settle();
    }
  }

  private async save(job: DownloadJob): Promise<void> {
    await this.ctx.db
      .updateTable("downloads")
      .set({
        status: job.status,
        bytes_done: job.bytesDone,
        bytes_total: job.bytesTotal,
        error: job.error,
        finished_at: job.finishedAt,
      })
      .where("id", "=", job.id)
      .execute();
  }

  private publish(job: DownloadJob): void {
    this.ctx.events.publish("download", {
      id: job.id,
      repo: job.repo,
      revision: job.revision,
      status: job.status,
      bytesDone: job.bytesDone,
      bytesTotal: job.bytesTotal,
      ...(job.error !== null ? { error: job.error } : {}),
    });
  }
}
