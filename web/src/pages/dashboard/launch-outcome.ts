/** Following one launch to its end (ready, failed or stopped) from the event stream, for the dashboard. */
import { useCallback, useState } from "react";
import { api } from "../../api";
import { type StudioEvent, useEvents } from "../../events";

export type OutcomeState = "launching" | "ready" | "failed" | "stopped";

export interface LaunchOutcome {
  name: string;
  state: OutcomeState;
  /** The failure's message, when the engine failed. */
  detail: string | null;
}

function failureMessage(failure: unknown, fallback: string | null): string | null {
  if (typeof failure === "string") return failure;
  if (failure && typeof failure === "object" && "message" in failure) return String(failure.message);
  return fallback;
}

/**
 * `watch(name)` follows a launch just accepted (202): the `instance` event for that name that says
 * ready, failed or stopped ends it; a GET right after catches an end that came before the watch began. An ended outcome never goes
 * back to "launching".
 */
export function useLaunchOutcome() {
  const [outcome, setOutcome] = useState<LaunchOutcome | null>(null);

  const settle = useCallback((name: string, state: OutcomeState, detail: string | null) => {
    setOutcome((current) =>
      current && current.name === name && current.state === "launching" ? { name, state, detail } : current,
    );
  }, []);

  // only `instance` events: a `launch` event's "ready" phase comes before the studio has recorded it
  useEvents(["instance"], (event: StudioEvent) => {
    const data = event.data ?? {};
    if (outcome?.state !== "launching" || data.instance !== outcome.name) return;
    if (data.status === "ready") settle(outcome.name, "ready", null);
    else if (data.status === "failed") settle(outcome.name, "failed", failureMessage(data.failure, null));
    else if (data.status === "stopped" || data.status === "removed") settle(outcome.name, "stopped", null);
  });

  const watch = useCallback(
    (name: string) => {
      setOutcome({ name, state: "launching", detail: null });
      api<{ status: string; failure?: unknown }>(`/api/instances/${encodeURIComponent(name)}`)
        .then((instance) => {
          if (instance.status === "ready") settle(name, "ready", null);
          else if (instance.status === "failed")
            settle(name, "failed", failureMessage(instance.failure, null));
        })
        .catch(() => {});
    },
    [settle],
  );

  const clear = useCallback(() => setOutcome(null), []);
  return { outcome, watch, clear };
}

/** "qwen3-8b is ready." and the like, for a role=status line. */
export function outcomeText(outcome: LaunchOutcome, verb = "Launching"): string {
  switch (outcome.state) {
    case "launching":
      return `${verb} ${outcome.name}…`;
    case "ready":
      return `${outcome.name} is ready.`;
    case "failed":
      return `${outcome.name} failed${outcome.detail ? `: ${outcome.detail}` : "."}`;
    case "stopped":
      return `${outcome.name} stopped before it was ready.`;
  }
}
