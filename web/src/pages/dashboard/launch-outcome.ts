/**
 * Following one launch to its end (ready, failed or stopped) from the event stream, and a POST that
 * keeps the API's per-field validation messages (`details.fields`), for the dashboard's forms.
 */
import { useCallback, useState } from "react";
import { ApiError, api, authHeaders, requireKey } from "../../api";
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

/** One field the API refused, its path without the `body.` prefix (`launch.model`). */
export interface FieldError {
  field: string;
  message: string;
}

/** An ApiError that also carries the per-field messages of a validation error (400). */
export class FieldsError extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    hint: string | null,
    readonly fields: FieldError[],
  ) {
    super(status, code, message, hint);
  }
}

/** POSTs JSON like api(), but a refusal throws FieldsError with `details.fields`. */
export async function postWithFields<T>(path: string, body: unknown): Promise<T> {
  for (;;) {
    const response = await fetch(path, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json", ...authHeaders() },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status === 401) {
      await requireKey("this action needs the API key");
      continue;
    }
    // biome-ignore lint/suspicious/noExplicitAny: the answer is checked field by field below
    let parsed: any = null;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (response.ok) return parsed as T;
    const error = parsed?.error;
    const fields: FieldError[] = Array.isArray(error?.details?.fields)
      ? error.details.fields.map((f: { field?: unknown; message?: unknown }) => ({
          field: String(f.field ?? "").replace(/^(body|querystring|params)\.?/, ""),
          message: String(f.message ?? ""),
        }))
      : [];
    throw new FieldsError(
      response.status,
      error?.code ?? "HTTP_ERROR",
      error?.message ?? `${response.status} ${response.statusText}`.trim(),
      error?.hint ?? null,
      fields,
    );
  }
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
