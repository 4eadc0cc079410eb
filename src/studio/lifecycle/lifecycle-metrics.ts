/** The lifecycle's Prometheus instruments on the studio's registry. */
import { Counter, Gauge, type Registry } from "prom-client";
import { INSTANCE_STATUSES, type InstanceStatus } from "../../runtime/supervisor/instance.js";

export interface LifecycleMetrics {
  launches: Counter<"result">;
  watchdogRestarts: Counter;
  budgetExhausted: Counter;
  adopted: Counter;
}

export function createLifecycleMetrics(
  registry: Registry,
  statuses: () => ReadonlyMap<string, InstanceStatus>,
): LifecycleMetrics {
  new Gauge({
    name: "servepilot_studio_instances",
    help: "Instances known to the studio, by status.",
    labelNames: ["status"] as const,
    registers: [registry],
    collect() {
      const counts = new Map<string, number>(INSTANCE_STATUSES.map((s) => [s, 0]));
      for (const status of statuses().values()) counts.set(status, (counts.get(status) ?? 0) + 1);
      for (const [status, count] of counts) this.set({ status }, count);
    },
  });
  return {
    launches: new Counter({
      name: "servepilot_studio_launches_total",
      help: "Launches the studio started, by result: ready, failed, cancelled, refused (before any engine started).",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    watchdogRestarts: new Counter({
      name: "servepilot_studio_watchdog_restarts_total",
      help: "Engines the watchdog restarted after they died.",
      registers: [registry],
    }),
    budgetExhausted: new Counter({
      name: "servepilot_studio_watchdog_budget_exhausted_total",
      help: "Times the watchdog gave up on an instance because it failed too often.",
      registers: [registry],
    }),
    adopted: new Counter({
      name: "servepilot_studio_adopted_instances_total",
      help: "Running engines the studio adopted at start (left by an earlier studio or the CLI).",
      registers: [registry],
    }),
  };
}
