/**
 * The instance state machine as a table: which operation the studio allows in which status. Pure, so
 * that the HTTP layer, the watchdog and the tests share one answer; a refused operation is a CONFLICT
 * (409) that names the current status and the statuses the operation needs.
 */
import { ServepilotError } from "../../core/errors.js";
import type { InstanceStatus } from "../../runtime/supervisor/instance.js";

export const OPERATIONS = ["launch", "cancel", "stop", "restart", "switch-away", "forget"] as const;
export type Operation = (typeof OPERATIONS)[number];

/** "absent": no record with that name. */
export type LifecycleStatus = InstanceStatus | "absent";

/**
 * Allowed statuses per operation.
 * - launch under a given name: a new name, or one whose engine is over (its record is replaced).
 * - cancel: only a launch still starting. stop: anything that runs or starts (stopping a starting
 *   instance cancels its launch).
 * - restart: a running instance (stop, then launch again) or one that is over.
 * - switch-away (the instance a switch stops): one that runs or starts.
 * - forget (DELETE): only once its engine is over.
 */
export const TRANSITIONS: Readonly<Record<Operation, readonly LifecycleStatus[]>> = {
  launch: ["absent", "stopped", "failed"],
  cancel: ["starting"],
  stop: ["starting", "ready"],
  restart: ["ready", "failed", "stopped"],
  "switch-away": ["starting", "ready"],
  forget: ["stopped", "failed"],
};

/** The status an operation leads to (what the events announce first). */
export const RESULTING_STATUS: Readonly<Record<Operation, LifecycleStatus>> = {
  launch: "starting",
  cancel: "stopped",
  stop: "stopped",
  restart: "starting",
  "switch-away": "stopped",
  forget: "absent",
};

export function isAllowed(operation: Operation, status: LifecycleStatus): boolean {
  return TRANSITIONS[operation].includes(status);
}

/** Throws CONFLICT (or NOT_FOUND for an absent instance the operation needs) unless allowed. */
export function assertAllowed(operation: Operation, name: string, status: LifecycleStatus): void {
  if (isAllowed(operation, status)) return;
  if (status === "absent") {
    throw new ServepilotError("NOT_FOUND", `no instance named "${name}"`, {
      hint: "GET /api/instances lists them",
    });
  }
  const allowed = TRANSITIONS[operation].filter((s) => s !== "absent");
  const verb = operation === "switch-away" ? "switch away from" : operation;
  throw new ServepilotError(
    "CONFLICT",
    `cannot ${verb} instance ${name}: it is ${status} (${verb} needs ${allowed.join(" or ")})`,
    {
      hint: hintFor(operation, status, name),
      details: { instance: name, status, operation, allowed },
    },
  );
}

function hintFor(operation: Operation, status: LifecycleStatus, name: string): string | undefined {
  if (operation === "launch")
    return `stop it first (POST /api/instances/${name}/stop) or choose another name`;
  if (status === "stopping") return "it is being stopped: wait for the instance event that says stopped";
  if (operation === "forget") return `stop it first: POST /api/instances/${name}/stop`;
  if (operation === "cancel")
    return "only a launch still starting can be cancelled; use stop for a ready one";
  return undefined;
}
