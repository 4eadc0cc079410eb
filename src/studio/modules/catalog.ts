/**
 * The studio's catalog side: recipes (stored, built-in and file), the planner (plan, fit, generate,
 * inspect, catalogs), models on disk and download jobs. Everything calls the runtime the CLI uses.
 */
import { join } from "node:path";
import { removeLeftovers } from "../catalog/delete-models.js";
import { DownloadJobs } from "../catalog/downloads.js";
import { hfCacheDir } from "../catalog/local-models.js";
import { registerCatalogRoutes } from "../catalog/routes.js";
import type { StudioContext, StudioModule } from "../context.js";
import { registerRecipeRoutes } from "../recipes/routes.js";

/** The download jobs of each studio (a process may run several, as tests do). */
const JOBS = new WeakMap<StudioContext, DownloadJobs>();

function jobsOf(ctx: StudioContext): DownloadJobs {
  let jobs = JOBS.get(ctx);
  if (!jobs) {
    jobs = new DownloadJobs(ctx);
    JOBS.set(ctx, jobs);
  }
  return jobs;
}

export const catalogModule: StudioModule = {
  name: "catalog",
  routes(app, ctx) {
    const jobs = jobsOf(ctx);
    registerRecipeRoutes(app, ctx);
    registerCatalogRoutes(app, ctx, jobs);
    ctx.statusSections.set("downloads", () => jobs.counts());
  },
  async start(ctx) {
    await jobsOf(ctx).recover();
    // deletions a crash interrupted leave hidden folders: finish them
    for (const dir of [await hfCacheDir(ctx).catch(() => null), join(ctx.dataDir, "models")]) {
      if (dir)
        await removeLeftovers(dir).catch((error) => ctx.log.warn({ err: error, dir }, "cleanup failed"));
    }
  },
  async stop(ctx) {
    await jobsOf(ctx).stopAll();
  },
};
