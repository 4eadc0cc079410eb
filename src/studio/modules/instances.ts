/**
 * Instances over HTTP: list and inspect, launch (202 at once; progress on the event stream), cancel,
 * stop, restart, switch (stop one and launch another as one operation), forget, logs and plan-vs-actual.
 * The lifecycle itself (lock, state machine, adoption, watchdog, --restore) is lifecycle/manager.ts.
 */
import { readdir, stat } from "node:fs/promises";
import { z } from "zod";
import { ServepilotError } from "../../core/errors.js";
import { tailLines } from "../../runtime/supervisor/log-file.js";
import { instanceLogFile, logsDir, readInstance } from "../../runtime/supervisor/state-store.js";
import type { StudioContext, StudioModule } from "../context.js";
import { InstanceNameSchema, LaunchBodySchema, SwitchBodySchema } from "../lifecycle/launch-request.js";
import {
  DEFAULT_LIFECYCLE_SETTINGS,
  LifecycleManager,
  type LifecycleSettings,
} from "../lifecycle/manager.js";

const NameParams = z.object({ name: InstanceNameSchema }).strict();

const StopBody = z
  .object({
    graceSeconds: z
      .number()
      .min(0)
      .max(600)
      .optional()
      .describe("Seconds between SIGTERM and SIGKILL (default 30)."),
  })
  .strict()
  .nullish();

const LogsQuery = z
  .object({
    lines: z.coerce
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(200)
      .describe("How many of the last lines (1-10000, default 200)."),
  })
  .strict();

/** Log files: `<instance>.log` and its rotated copies `<instance>.log.N`. */
const LOG_FILE = /^([a-z0-9][a-z0-9._-]{0,62})\.log(?:\.(\d+))?$/;

async function listLogs(ctx: StudioContext) {
  const names = await readdir(logsDir(ctx.dataDir)).catch(() => [] as string[]);
  const byInstance = new Map<
    string,
    { instance: string; files: Array<{ file: string; sizeBytes: number; modifiedAt: string }> }
  >();
  for (const file of names.sort()) {
    const match = LOG_FILE.exec(file);
    if (!match) continue;
    const info = await stat(`${logsDir(ctx.dataDir)}/${file}`).catch(() => null);
    if (!info?.isFile()) continue;
    const instance = match[1] as string;
    const entry = byInstance.get(instance) ?? { instance, files: [] };
    entry.files.push({ file, sizeBytes: info.size, modifiedAt: info.mtime.toISOString() });
    byInstance.set(instance, entry);
  }
  return [...byInstance.values()].map((entry) => ({
    ...entry,
    totalBytes: entry.files.reduce((sum, f) => sum + f.sizeBytes, 0),
  }));
}

/** One manager per studio (a process may run several, as tests do). */
const MANAGERS = new WeakMap<StudioContext, LifecycleManager>();

function managerOf(ctx: StudioContext): LifecycleManager {
  const manager = MANAGERS.get(ctx);
  if (!manager) throw new ServepilotError("INTERNAL", "the instances module was not set up");
  return manager;
}

/** The instances module; tests give it a clock and a small failure budget. */
export function createInstancesModule(settings: Partial<LifecycleSettings> = {}): StudioModule {
  const resolved: LifecycleSettings = { ...DEFAULT_LIFECYCLE_SETTINGS, ...settings };
  return {
    name: "instances",
    routes(app, ctx) {
      const manager = new LifecycleManager(ctx, resolved);
      MANAGERS.set(ctx, manager);
      ctx.services.lifecycle = manager;
      ctx.statusSections.set("instances", () => manager.statusSection());
      ctx.statusSections.set("launching", () => manager.launchingSection());

      app.get(
        "/api/instances",
        {
          schema: {
            summary: "Every instance: status, whether it runs and answers, GPUs, port, plan vs actual.",
          },
        },
        async () => ({ instances: await manager.list() }),
      );

      app.post(
        "/api/instances",
        {
          schema: {
            summary: "Launch an engine. Answers 202 once it is spawned; follow it on /api/events.",
            description:
              "Events: `launch` {instance, phase, percent, line?} while it starts, `instance` {instance, status, …} on every change, `log` {instance, line}. A launch refused before any engine starts (no free GPU, unknown recipe, a flag the engine refuses) answers with its error instead.",
            body: LaunchBodySchema,
          },
        },
        async (request, reply) => {
          const started = await manager.launch(request.body);
          return reply.status(202).send(started);
        },
      );

      app.post(
        "/api/instances/switch",
        {
          schema: {
            summary: "Stop one instance and launch another, as one operation (202 with the new one's name).",
            body: SwitchBodySchema,
          },
        },
        async (request, reply) => {
          const started = await manager.switch(request.body.stop, request.body.launch);
          return reply.status(202).send(started);
        },
      );

      app.get(
        "/api/instances/:name",
        { schema: { summary: "One instance.", params: NameParams } },
        async (request) => manager.get(request.params.name),
      );

      app.post(
        "/api/instances/:name/cancel",
        { schema: { summary: "Cancel a launch in progress (its engine is stopped).", params: NameParams } },
        async (request) => manager.cancel(request.params.name),
      );

      app.post(
        "/api/instances/:name/stop",
        {
          schema: {
            summary: "Stop an instance: SIGTERM to its process group, SIGKILL after the grace period.",
            params: NameParams,
            body: StopBody,
          },
        },
        async (request) => manager.stop(request.params.name, request.body?.graceSeconds),
      );

      app.post(
        "/api/instances/:name/restart",
        {
          schema: {
            summary: "Stop (when running) and launch again with the same request (202).",
            params: NameParams,
            body: StopBody,
          },
        },
        async (request, reply) => {
          const started = await manager.restart(request.params.name, request.body?.graceSeconds);
          return reply.status(202).send(started);
        },
      );

      app.delete(
        "/api/instances/:name",
        {
          schema: {
            summary: "Forget a stopped or failed instance (its log and plan-vs-actual rows are kept).",
            params: NameParams,
          },
        },
        async (request) => manager.forget(request.params.name),
      );

      app.get(
        "/api/instances/:name/logs",
        {
          schema: {
            summary: "The last lines of an instance's log.",
            params: NameParams,
            querystring: LogsQuery,
          },
        },
        async (request) => {
          const { name } = request.params;
          // the file comes from the instance name only, never from a path in the request
          const file = instanceLogFile(ctx.dataDir, name);
          const exists = await stat(file).then(
            () => true,
            () => false,
          );
          if (!exists && (await readInstance(ctx.dataDir, name)) === null) {
            throw new ServepilotError("NOT_FOUND", `no instance or log named "${name}"`, {
              hint: "GET /api/logs lists the logs",
            });
          }
          return { instance: name, lines: await tailLines(file, request.query.lines) };
        },
      );

      app.get(
        "/api/instances/:name/plan-vs-actual",
        {
          schema: {
            summary:
              "The planner's figures against the engine's, per launch (kept after the instance is gone).",
            params: NameParams,
          },
        },
        async (request) => ({
          instance: request.params.name,
          rows: await manager.planVsActual(request.params.name),
        }),
      );

      app.get(
        "/api/logs",
        { schema: { summary: "Engine log files, by instance, with their sizes (rotated copies included)." } },
        async () => ({ logs: await listLogs(ctx) }),
      );
    },
    async start(ctx) {
      await managerOf(ctx).start();
    },
    async stop(ctx, options) {
      await MANAGERS.get(ctx)?.shutdown(options.stopEngines);
    },
  };
}

export const instancesModule: StudioModule = createInstancesModule();
