/** Ports for engines: whether one is free on a host, and the first free one from a start. */
import { createServer } from "node:net";
import { ServepilotError } from "../../core/errors.js";

/** Whether `port` can be bound on `host` right now (the test binds it and lets go). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface PortChoice {
  port: number;
  /** true when the port was given (it is then used or refused, never changed). */
  explicit: boolean;
}

/**
 * The port to start an engine on: the one given (refused when in use or taken by another instance),
 * else the first free port from `start` that no other instance holds.
 */
export async function choosePort(options: {
  host: string;
  requested: number | null;
  start: number;
  taken: ReadonlySet<number>;
}): Promise<PortChoice> {
  const { host, requested, taken } = options;
  if (requested !== null) {
    if (taken.has(requested) || !(await isPortFree(host, requested))) {
      throw new ServepilotError(
        "LAUNCH_FAILED",
        `port ${requested} on ${host} is already in use${taken.has(requested) ? " by another servepilot instance" : ""}`,
        { hint: "choose another with --port, or leave --port out to take the next free one" },
      );
    }
    return { port: requested, explicit: true };
  }
  for (let port = options.start; port < Math.min(options.start + 1000, 65_536); port++) {
    if (!taken.has(port) && (await isPortFree(host, port))) return { port, explicit: false };
  }
  throw new ServepilotError(
    "LAUNCH_FAILED",
    `no free port on ${host} in ${options.start}-${options.start + 999}`,
    {
      hint: "give one with --port",
    },
  );
}
