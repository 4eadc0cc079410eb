/**
 * The studio's instance lifecycle: launch, cancel, stop, restart, switch and forget, all decided under
 * one lock and checked against the state machine (transitions.ts); adoption of running engines at start;
 * the watchdog that notices deaths and restarts what asked for it within a failure budget; --restore;
 * live log lines and launch progress on the event bus.
 *
 * The lock is held for the decision and the spawn only: the runtime's launch calls `onStarted` once
 * the engine runs and its record is written, the request answers 202 then, and the rest of the launch
 * (minutes until ready) goes on in the background, reporting through events.
 */
import { ServepilotError } from "../../core/errors.js";
import { PeriodicTask } from "../../runtime/periodic-task.js";
import { loadRecipes } from "../../runtime/recipes/load-recipes.js";
import {
  type InstanceFailure,
  type InstanceRecord,
  type InstanceStatus,
  isActiveStatus,
} from "../../runtime/supervisor/instance.js";
import { type LaunchProgress, type LaunchResult, launch } from "../../runtime/supervisor/launch.js";
import {
  listInstances,
  readInstance,
  removeInstance,
  updateInstance,
} from "../../runtime/supervisor/state-store.js";
import { refreshInstance } from "../../runtime/supervisor/status.js";
import { stopInstance } from "../../runtime/supervisor/stop.js";
import type { StudioContext } from "../context.js";
import { assertRecipeRunnable } from "../recipes/schema.js";
import { getStoredRecipe } from "../recipes/store.js";
import { awaitAdoptedReadiness } from "./adopt-readiness.js";
import { DEFAULT_FAILURE_BUDGET, type FailureBudget, judgeFailures } from "./failure-budget.js";
import {
  type InstanceExtras,
  instanceSummary,
  instanceView,
  type LaunchProgressView,
} from "./instance-view.js";
import { chooseInstanceName, type LaunchBody, toRuntimeRequest } from "./launch-request.js";
import { createLifecycleMetrics, type LifecycleMetrics } from "./lifecycle-metrics.js";
import { followLog, type LogFollower } from "./log-follower.js";
import { Mutex } from "./mutex.js";
import { LifecycleStore } from "./store.js";
import { assertAllowed, type LifecycleStatus, type Operation } from "./transitions.js";

export interface LifecycleSettings {
  /** The clock (ms since the epoch) for failure times and the budget window; tests inject their own. */
  now: () => number;
  budget: FailureBudget;
  /** How often a launch polls the log and /health (ms). */
  pollMs: number;
  /** How often live logs are read for `log` events (ms). */
  logFollowMs: number;
  /** Grace before SIGKILL when the studio stops engines (ms → seconds in the runtime). */
  defaultStopGraceSeconds: number;
}

export const DEFAULT_LIFECYCLE_SETTINGS: LifecycleSettings = {
  now: Date.now,
  budget: DEFAULT_FAILURE_BUDGET,
  pollMs: 100,
  logFollowMs: 250,
  defaultStopGraceSeconds: 30,
};

/** Why a launch was started (carried by events, and deciding whether its failure counts as a death). */
export type LaunchReason = "launch" | "restart" | "switch" | "watchdog" | "restore";

interface InFlight {
  controller: AbortController;
  detach: AbortController;
  /** Settles once the runtime launch has ended and its outcome was published. */
  settled: Promise<void>;
  progress: LaunchProgressView;
}

/** What the studio tracks about an instance it launched or adopted while its engine should run. */
interface Tracked {
  name: string;
  launch: InFlight | null;
  follower: LogFollower | null;
  /** Set once a stop was asked for: its end is not a death. */
  stopping: boolean;
  adopted: boolean;
  /** An adopted engine still starting: a readiness wait runs for it. */
  awaitingReadiness: boolean;
}

export interface StartedLaunch {
  name: string;
  status: "starting";
  model: string;
  engine: InstanceRecord["engine"];
  gpus: number[];
  port: number;
  endpoint: string;
  pid: number | null;
  recipeId: string;
  autoRestart: boolean;
  reason: LaunchReason;
}

export class LifecycleManager {
  readonly lock = new Mutex();
  private readonly tracked = new Map<string, Tracked>();
  /** Last status announced per instance (for the status gauge and `previous` in events). */
  private readonly known = new Map<string, InstanceStatus>();
  private readonly store: LifecycleStore;
  private readonly metrics: LifecycleMetrics;
  private watchdog: PeriodicTask<void> | null = null;
  private closed = false;

  constructor(
    private readonly ctx: StudioContext,
    private readonly settings: LifecycleSettings,
  ) {
    this.store = new LifecycleStore(ctx.db, settings.now);
    this.metrics = createLifecycleMetrics(ctx.metrics, () => this.known);
    // The lock is taken from the start until adoption (and --restore) is done: the server listens
    // before modules start, and no operation may act on engines the studio has not looked at yet.
    this.startup = this.lock.run(async () => {
      if (await this.startSignal) await this.adoptAllLocked();
    });
    this.startup.catch(() => {});
  }

  private releaseStartup: (run: boolean) => void = () => {};
  private readonly startSignal = new Promise<boolean>((resolve) => {
    this.releaseStartup = resolve;
  });
  private readonly startup: Promise<void>;

  // ---------------------------------------------------------------- reading

  private get dataDir(): string {
    return this.ctx.dataDir;
  }

  private async extrasOf(name: string): Promise<InstanceExtras> {
    const row = await this.store.launchOf(name);
    const tracked = this.tracked.get(name);
    return {
      launching: tracked?.launch?.progress ?? null,
      autoRestart: row?.autoRestart ?? false,
      desiredState: row?.desiredState ?? null,
      adopted: tracked?.adopted ?? false,
    };
  }

  async list() {
    const records = await listInstances(this.dataDir);
    return Promise.all(records.map(async (r) => instanceView(r, this.ctx.env, await this.extrasOf(r.name))));
  }

  async get(name: string) {
    const record = await readInstance(this.dataDir, name);
    if (record === null) throw notFound(name);
    return instanceView(record, this.ctx.env, await this.extrasOf(name));
  }

  async planVsActual(name: string) {
    const rows = await this.store.planVsActual(name);
    if (rows.length === 0 && (await readInstance(this.dataDir, name)) === null) throw notFound(name);
    return rows;
  }

  /** GET /api/status sections. */
  statusSection() {
    return [...this.known].map(([name, status]) => ({ name, status }));
  }

  launchingSection() {
    return [...this.tracked.values()]
      .filter((t) => t.launch !== null)
      .map((t) => ({ name: t.name, ...t.launch?.progress }));
  }

  private async statusOf(name: string): Promise<LifecycleStatus> {
    const tracked = this.tracked.get(name);
    if (tracked?.launch) return "starting";
    const record = await readInstance(this.dataDir, name);
    return record?.status ?? "absent";
  }

  private async check(operation: Operation, name: string): Promise<LifecycleStatus> {
    const status = await this.statusOf(name);
    assertAllowed(operation, name, status);
    return status;
  }

  // ---------------------------------------------------------------- events

  private announce(
    name: string,
    status: InstanceStatus | "removed",
    record: InstanceRecord | null,
    extra: Record<string, unknown> = {},
  ): void {
    const previous = this.known.get(name) ?? null;
    if (status === "removed") this.known.delete(name);
    else this.known.set(name, status);
    this.ctx.events.publish("instance", {
      instance: name,
      status,
      previous,
      ...(record ? instanceSummary(record) : {}),
      ...(record?.failure && (status === "failed" || status === "stopped")
        ? { failure: record.failure }
        : {}),
      ...extra,
    });
  }

  private progress(name: string, phase: string, percent: number | null, extra: Record<string, unknown> = {}) {
    this.ctx.events.publish("launch", { instance: name, phase, percent, ...extra });
  }

  /** Publishes new log lines; `fromStart` for a fresh launch (its log was rotated away at spawn). */
  private async follow(tracked: Tracked, file: string, fromStart: boolean): Promise<void> {
    tracked.follower?.stop();
    tracked.follower = await followLog(
      file,
      (line) => this.ctx.events.publish("log", { instance: tracked.name, line }),
      { intervalMs: this.settings.logFollowMs, fromStart },
    );
  }

  private untrack(name: string): void {
    const tracked = this.tracked.get(name);
    tracked?.follower?.stop();
    this.tracked.delete(name);
  }

  // ---------------------------------------------------------------- operations (HTTP)

  launch(body: LaunchBody): Promise<StartedLaunch> {
    return this.lock.run(async () => {
      this.assertOpen();
      const model = await this.modelOf(body);
      const name = body.name ?? chooseInstanceName(model, await this.takenNames());
      if (body.name !== undefined) await this.check("launch", name);
      return this.startLocked(name, { ...body, model, name }, "launch");
    });
  }

  switch(
    stopName: string,
    body: LaunchBody,
    graceSeconds?: number,
  ): Promise<StartedLaunch & { stopped: string }> {
    return this.lock.run(async () => {
      this.assertOpen();
      await this.check("switch-away", stopName);
      const model = await this.modelOf(body);
      if (body.name !== undefined && body.name !== stopName) await this.check("launch", body.name);
      await this.stopLocked(stopName, graceSeconds, true);
      const name = body.name ?? chooseInstanceName(model, await this.takenNames());
      const started = await this.startLocked(name, { ...body, model, name }, "switch");
      return { ...started, stopped: stopName };
    });
  }

  stop(name: string, graceSeconds?: number) {
    return this.lock.run(async () => {
      await this.check("stop", name);
      return this.stopLocked(name, graceSeconds, true);
    });
  }

  cancel(name: string) {
    return this.lock.run(async () => {
      await this.check("cancel", name);
      return this.stopLocked(name, undefined, true);
    });
  }

  restart(name: string, graceSeconds?: number): Promise<StartedLaunch> {
    return this.lock.run(async () => {
      this.assertOpen();
      const status = await this.check("restart", name);
      const record = await readInstance(this.dataDir, name);
      const body = (await this.store.launchOf(name))?.request ?? (record ? bodyFromRecord(record) : null);
      if (body === null) throw notFound(name);
      const model = await this.modelOf(body);
      if (status === "ready") await this.stopLocked(name, graceSeconds, false);
      return this.startLocked(name, { ...body, model, name }, "restart");
    });
  }

  forget(name: string) {
    return this.lock.run(async () => {
      await this.check("forget", name);
      this.untrack(name);
      await removeInstance(this.dataDir, name);
      await this.store.forget(name);
      this.announce(name, "removed", null);
      return { name, removed: true };
    });
  }

  private assertOpen(): void {
    if (this.closed || this.ctx.closing) {
      throw new ServepilotError("CONFLICT", "the studio is shutting down: no new launches", {
        hint: "start the studio again",
      });
    }
  }

  /** Names in use: every record (forget one with DELETE to reuse its name) and every launch under way. */
  private async takenNames(): Promise<Set<string>> {
    const names = new Set((await listInstances(this.dataDir)).map((r) => r.name));
    for (const name of this.tracked.keys()) names.add(name);
    return names;
  }

  /** The model a launch serves: the body's, else its recipe's (stored, file or built-in). */
  private async modelOf(body: LaunchBody): Promise<string> {
    if (body.model !== undefined) return body.model;
    const id = body.recipeId as string;
    const stored = await getStoredRecipe(this.ctx.db, id);
    if (stored) return stored.recipe.model;
    const library = await loadRecipes({ dataDir: this.dataDir, recipesDir: this.ctx.options.recipesDir });
    const found = library.records.find((r) => r.recipe.id === id);
    if (!found) {
      throw new ServepilotError(
        "NOT_FOUND",
        `recipeId ${id}: no stored, file or built-in recipe has that id`,
        {
          hint: "GET /api/recipes lists them",
        },
      );
    }
    return found.recipe.model;
  }

  // ---------------------------------------------------------------- locked steps

  /**
   * Starts a launch (the caller holds the lock): resolves once the engine is spawned and its record
   * written; a launch refused before that (no free GPU, unknown recipe, a flag the engine would refuse)
   * throws, with nothing started. The rest of the launch continues in the background.
   */
  private async startLocked(
    name: string,
    body: LaunchBody & { model: string; name: string },
    reason: LaunchReason,
  ): Promise<StartedLaunch> {
    const stored = body.recipeId !== undefined ? await getStoredRecipe(this.ctx.db, body.recipeId) : null;
    const autoRestart = body.autoRestart ?? stored?.autoRestart ?? false;
    const request = toRuntimeRequest(body, name, {
      recipesDir: this.ctx.options.recipesDir,
      enginePrograms: this.ctx.options.enginePrograms,
      ...(stored ? { extraRecipes: [stored.recipe], extraArgs: stored.extraArgs } : {}),
    });
    const portStart = this.ctx.options.enginePortStart;
    if (portStart !== null && request.port === undefined) request.portStart = portStart;
    if (stored) {
      // checked again at launch: the recipe may have been stored while the studio allowed custom
      // commands, and the operator has since restarted it without --allow-custom-commands
      assertRecipeRunnable(stored, this.ctx.options.allowCustomCommands);
      if (stored.engineProgram) request.engineBin = stored.engineProgram;
    }
    const controller = new AbortController();
    const detach = new AbortController();
    const progress: LaunchProgressView = {
      phase: "preparing",
      percent: null,
      startedAt: new Date(this.settings.now()).toISOString(),
      reason,
    };
    const tracked: Tracked = {
      name,
      launch: null,
      follower: null,
      stopping: false,
      adopted: false,
      awaitingReadiness: false,
    };
    this.tracked.set(name, tracked);
    this.progress(name, "preparing", null, { reason });

    let startedRecord: InstanceRecord | null = null;
    let onStarted: (record: InstanceRecord) => void = () => {};
    const started = new Promise<InstanceRecord>((resolve) => {
      onStarted = resolve;
    });
    const run = launch(request, {
      dataDir: this.dataDir,
      env: this.ctx.env,
      pollMs: this.settings.pollMs,
      signal: controller.signal,
      detach: detach.signal,
      onStarted: (record) => {
        startedRecord = record;
        onStarted(record);
      },
      onProgress: (p: LaunchProgress) => {
        if (p.line === undefined) {
          progress.phase = p.phase;
          progress.percent = p.percent;
          // "ready" goes out once the instance record says so (onLaunchEnded), so that a client
          // reacting to it reads a ready instance
          if (p.phase !== "ready") this.progress(name, p.phase, p.percent);
        } else {
          this.progress(name, p.phase, p.percent, { line: p.line });
        }
      },
    });
    const settled = run.then(
      (result) => this.onLaunchEnded(tracked, result, reason),
      (error: unknown) => (startedRecord === null ? undefined : this.onLaunchFailed(tracked, error, reason)),
    );
    tracked.launch = { controller, detach, settled: settled.catch(() => {}), progress };
    const first = await Promise.race([
      started.then((record) => ({ record }) as const),
      run.then(
        () => ({ record: startedRecord }) as const,
        (error: unknown) => ({ error }) as const,
      ),
    ]);
    if ("error" in first || first.record === null) {
      this.tracked.delete(name);
      const error =
        "error" in first
          ? first.error
          : new ServepilotError("INTERNAL", `${name}: the launch ended before starting`);
      this.metrics.launches.inc({ result: "refused" });
      this.progress(name, "failed", null, {
        reason,
        error: { code: (error as ServepilotError).code ?? "INTERNAL", message: (error as Error).message },
      });
      throw error;
    }
    const record = first.record;
    await this.store.recordLaunch(name, { ...body, autoRestart }, autoRestart);
    await this.follow(tracked, record.logFile, true);
    this.announce(name, "starting", record, { reason });
    return {
      name,
      status: "starting",
      model: record.model,
      engine: record.engine,
      gpus: record.gpus.map((g) => g.index),
      port: record.port,
      endpoint: record.endpoint,
      pid: record.pid,
      recipeId: record.recipeId,
      autoRestart,
      reason,
    };
  }

  /** A launch that reached ready (or was detached at shutdown, still starting). */
  private async onLaunchEnded(tracked: Tracked, result: LaunchResult, reason: LaunchReason): Promise<void> {
    tracked.launch = null;
    if (result.status !== "ready") return;
    this.metrics.launches.inc({ result: "ready" });
    const record = await readInstance(this.dataDir, tracked.name).catch(() => null);
    if (!this.closed)
      await this.store.recordPlanVsActual(result.name, result.model, result.engine, result.planVsActual);
    this.progress(tracked.name, "ready", null);
    this.announce(tracked.name, "ready", record, { reason, planVsActual: result.planVsActual });
  }

  /** A launch that failed or was cancelled after its engine started (the runtime stopped it). */
  private async onLaunchFailed(tracked: Tracked, error: unknown, reason: LaunchReason): Promise<void> {
    tracked.launch = null;
    const details = (error as ServepilotError).details as
      | { instance?: InstanceRecord; cause?: string }
      | undefined;
    const record = details?.instance ?? (await readInstance(this.dataDir, tracked.name).catch(() => null));
    const cancelled = details?.cause === "cancelled";
    this.metrics.launches.inc({ result: cancelled ? "cancelled" : "failed" });
    tracked.follower?.stop();
    if (this.tracked.get(tracked.name) === tracked) this.tracked.delete(tracked.name);
    const failure = record?.failure ?? {
      cause: details?.cause ?? "launch-failed",
      message: (error as Error).message,
      fixes: [],
      exitCode: null,
      signal: null,
    };
    this.progress(tracked.name, cancelled ? "cancelled" : "failed", null, {
      cause: failure.cause,
      message: failure.message,
      fixes: failure.fixes,
    });
    this.announce(tracked.name, cancelled ? "stopped" : "failed", record, { reason, failure });
    // a restart by the watchdog that fails again is one more failure of a crash loop
    if (!cancelled && !tracked.stopping && reason === "watchdog" && !this.closed) {
      void this.lock
        .run(() => this.afterDeathLocked(tracked.name, failure))
        .catch((e: unknown) =>
          this.ctx.log.error(
            { err: e, instance: tracked.name },
            "watchdog: handling a failed restart failed",
          ),
        );
    }
  }

  /**
   * Stops an instance (the caller holds the lock): a launch in progress is cancelled through its
   * signal (the runtime stops the engine), a running engine gets SIGTERM then SIGKILL after the grace.
   */
  private async stopLocked(name: string, graceSeconds: number | undefined, wantStopped: boolean) {
    const tracked = this.tracked.get(name);
    if (tracked) tracked.stopping = true;
    if (wantStopped) await this.store.setDesiredState(name, "stopped");
    if (tracked?.launch) {
      const inFlight = tracked.launch;
      inFlight.controller.abort();
      await inFlight.settled;
      this.untrack(name);
      const record = await readInstance(this.dataDir, name);
      return { name, status: record?.status ?? "stopped", wasRunning: true, signal: null };
    }
    this.untrack(name);
    const before = await readInstance(this.dataDir, name);
    if (before) this.announce(name, "stopping", before);
    const result = await stopInstance(this.dataDir, name, {
      env: this.ctx.env,
      graceSeconds: graceSeconds ?? this.settings.defaultStopGraceSeconds,
    });
    this.announce(name, result.record.status, result.record, { signal: result.signal });
    return { name, status: result.record.status, wasRunning: result.wasRunning, signal: result.signal };
  }

  // ---------------------------------------------------------------- deaths, watchdog, adoption

  /**
   * An engine that should run has died (the caller holds the lock): counts the failure, and restarts it
   * when its launch asked for auto-restart, unless it failed too often within the budget's window.
   */
  private async afterDeathLocked(name: string, failure: InstanceFailure | null): Promise<void> {
    if (this.closed) return;
    const cause = failure?.cause ?? "exited";
    const message = failure?.message ?? "the engine exited";
    await this.store.recordFailure(name, cause, message);
    const row = await this.store.launchOf(name);
    if (!row?.autoRestart || row.desiredState !== "running") return;
    if (this.tracked.has(name)) return;
    const verdict = judgeFailures(
      await this.store.failureTimes(name),
      this.settings.now(),
      this.settings.budget,
    );
    if (verdict.exhausted) {
      this.metrics.budgetExhausted.inc();
      await this.store.setDesiredState(name, "stopped");
      const record = await updateInstance(this.dataDir, name, (r) => ({
        ...r,
        failure: {
          ...(r.failure ?? { cause, message, fixes: [], exitCode: null, signal: null }),
          message: `${r.failure?.message ?? message}; not restarted: ${verdict.reason}`,
          fixes: [
            ...(r.failure?.fixes ?? []),
            `read its log (GET /api/instances/${name}/logs), fix the cause, then POST /api/instances/${name}/restart`,
          ],
        },
      }));
      this.announce(name, "failed", record, {
        restartsExhausted: true,
        reason: verdict.reason,
        failures: verdict.recent,
      });
      return;
    }
    this.metrics.watchdogRestarts.inc();
    try {
      await this.startLocked(
        name,
        { ...row.request, name, model: row.request.model ?? (await this.modelOf(row.request)) },
        "watchdog",
      );
    } catch (error) {
      const record = await readInstance(this.dataDir, name);
      this.announce(name, record?.status ?? "failed", record, {
        reason: "watchdog",
        restartRefused: (error as Error).message,
      });
    }
  }

  /** One watchdog pass (under the lock): notices engines that died or were stopped elsewhere. */
  private async watchdogPass(): Promise<void> {
    for (const record of await listInstances(this.dataDir)) {
      if (this.closed) return;
      const tracked = this.tracked.get(record.name);
      if (tracked?.launch) continue; // the launch follows its own engine
      if (!tracked) {
        // an engine started outside the studio (the CLI) while it runs: watch it too
        if (isActiveStatus(record.status)) await this.adoptLocked(record);
        continue;
      }
      if (tracked.stopping) continue;
      const report = await refreshInstance(this.dataDir, record, { env: this.ctx.env, probe: false });
      if (report.alive) continue;
      this.untrack(record.name);
      if (report.record.status === "stopped") {
        // stopped on purpose elsewhere (servepilot stop)
        await this.store.setDesiredState(record.name, "stopped");
        this.announce(record.name, "stopped", report.record, { reason: report.reason });
        continue;
      }
      this.announce(record.name, "failed", report.record, { reason: report.reason });
      await this.afterDeathLocked(record.name, report.record.failure);
    }
  }

  /**
   * Adopts a recorded engine (the caller holds the lock): checks that its pid is the same process
   * (start time, command line); a live one is followed (log, watchdog, readiness when still starting),
   * a dead one is marked (failed, or stopped when it was being stopped) and handled as a death.
   */
  private async adoptLocked(record: InstanceRecord): Promise<void> {
    const report = await refreshInstance(this.dataDir, record, {
      env: this.ctx.env,
      probe: record.status === "ready",
    });
    if (!report.alive) {
      if (report.record.status === "stopped") {
        this.announce(record.name, "stopped", report.record, { reason: report.reason });
        return;
      }
      this.announce(record.name, "failed", report.record, { reason: report.reason, adopted: false });
      await this.afterDeathLocked(record.name, report.record.failure);
      return;
    }
    if (record.status === "stopping") {
      // a stop was under way when the last studio ended: finish it
      const result = await stopInstance(this.dataDir, record.name, {
        env: this.ctx.env,
        graceSeconds: this.settings.defaultStopGraceSeconds,
      });
      this.announce(record.name, result.record.status, result.record);
      return;
    }
    const tracked: Tracked = {
      name: record.name,
      launch: null,
      follower: null,
      stopping: false,
      adopted: true,
      awaitingReadiness: record.status === "starting",
    };
    this.tracked.set(record.name, tracked);
    await this.follow(tracked, record.logFile, false);
    this.metrics.adopted.inc();
    this.announce(record.name, record.status, record, { adopted: true, healthy: report.healthy });
    if (record.status === "starting") void this.awaitAdopted(tracked, record);
  }

  private async awaitAdopted(tracked: Tracked, record: InstanceRecord): Promise<void> {
    const row = await this.store.launchOf(record.name);
    const timeoutSeconds = row?.request.timeoutSeconds ?? 3_600;
    const outcome = await awaitAdoptedReadiness(record, {
      dataDir: this.dataDir,
      env: this.ctx.env,
      pollMs: Math.max(this.settings.pollMs, 250),
      deadline: Date.parse(record.createdAt) + timeoutSeconds * 1000,
      abandoned: () => this.closed || this.tracked.get(record.name) !== tracked || tracked.stopping,
    });
    tracked.awaitingReadiness = false;
    if (outcome.kind === "ready") {
      if (!this.closed)
        await this.store.recordPlanVsActual(
          record.name,
          record.model,
          record.engine,
          outcome.record.planVsActual,
        );
      this.announce(record.name, "ready", outcome.record, { adopted: true });
    } else if (outcome.kind === "timeout" && !this.closed) {
      await this.lock.run(async () => {
        if (this.tracked.get(record.name) !== tracked) return;
        await this.stopLocked(record.name, 10, false);
        const failed = await updateInstance(this.dataDir, record.name, (r) => ({
          ...r,
          status: "failed",
          failure: {
            cause: "timeout",
            message: `not ready ${timeoutSeconds} s after it was started`,
            fixes: ["launch it again with a larger timeoutSeconds"],
            exitCode: null,
            signal: null,
          },
        }));
        this.announce(record.name, "failed", failed);
      });
    }
    // "died": the watchdog's next pass marks it and handles the death
  }

  // ---------------------------------------------------------------- start and stop of the studio

  async start(): Promise<void> {
    this.releaseStartup(true);
    await this.startup;
    this.watchdog = new PeriodicTask(this.ctx.options.watchdogMs, () => this.watchdogTick());
    this.watchdog.start({ runNow: false });
  }

  private async adoptAllLocked(): Promise<void> {
    for (const record of await listInstances(this.dataDir)) {
      this.known.set(record.name, record.status);
      if (isActiveStatus(record.status)) await this.adoptLocked(record);
    }
    if (this.ctx.options.restore) await this.restoreLocked();
  }

  /** --restore: relaunches what the operator wanted running and is not (running ones were adopted). */
  private async restoreLocked(): Promise<void> {
    for (const row of await this.store.launchesWanted()) {
      if (this.tracked.has(row.name)) continue;
      const record = await readInstance(this.dataDir, row.name);
      if (record && isActiveStatus(record.status)) continue;
      try {
        const model = row.request.model ?? (await this.modelOf(row.request));
        await this.startLocked(row.name, { ...row.request, model, name: row.name }, "restore");
      } catch (error) {
        this.ctx.log.warn({ err: error, instance: row.name }, "restore: relaunch refused");
        this.progress(row.name, "failed", null, { reason: "restore", message: (error as Error).message });
      }
    }
  }

  private async watchdogTick(): Promise<void> {
    if (this.closed) return;
    try {
      await this.lock.run(() => this.watchdogPass());
    } catch (error) {
      this.ctx.log.error({ err: error }, "watchdog pass failed");
    }
  }

  /**
   * Studio shutdown: background work stops; engines keep running (launches in progress are detached,
   * to be adopted by the next start) unless `stopEngines`. Either way the operator's wish stays
   * "running", so --restore brings back what the shutdown stopped.
   */
  async shutdown(stopEngines: boolean): Promise<void> {
    this.closed = true;
    this.releaseStartup(false);
    await this.watchdog?.stop();
    await this.lock.run(async () => {
      for (const tracked of [...this.tracked.values()]) {
        tracked.stopping = true;
        if (tracked.launch) {
          if (stopEngines) tracked.launch.controller.abort();
          else tracked.launch.detach.abort();
          await tracked.launch.settled;
        }
        tracked.follower?.stop();
        if (stopEngines) {
          const record = await readInstance(this.dataDir, tracked.name);
          if (record && isActiveStatus(record.status)) {
            const result = await stopInstance(this.dataDir, tracked.name, {
              env: this.ctx.env,
              graceSeconds: 10,
            });
            this.announce(tracked.name, result.record.status, result.record, { reason: "studio shutdown" });
          }
        }
      }
      this.tracked.clear();
    });
  }
}

/** The first engine port tried, as the CLI takes it: SERVEPILOT_PORT (default 8000 in the runtime). */
function notFound(name: string): ServepilotError {
  return new ServepilotError("NOT_FOUND", `no instance named "${name}"`, {
    hint: "GET /api/instances lists them",
  });
}

/** A launch body for an instance the studio did not launch (started by the CLI): its recorded choices. */
function bodyFromRecord(record: InstanceRecord): LaunchBody {
  return {
    model: record.model,
    engine: record.engine,
    ...(record.recipeId !== "generated" && record.recipeId !== "embedded"
      ? { recipeId: record.recipeId }
      : {}),
    ...(record.gpus.length > 0 ? { gpuCount: record.gpus.length } : {}),
  };
}
