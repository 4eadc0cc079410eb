/**
 * /api/events over fetch (EventSource cannot send the API key header): one shared connection for the
 * whole page, parsed into {id, type, data}, reconnecting with Last-Event-ID so nothing is missed.
 */
import { useEffect, useRef } from "react";
import { authHeaders, requireKey } from "./api";
import { readSse, type SseEvent } from "./sse";

export type StudioEventType =
  | "status"
  | "instance"
  | "gpu"
  | "metrics"
  | "launch"
  | "log"
  | "download"
  | "model"
  | "benchmark"
  | "chat"
  | "gateway";

export type StudioEvent = SseEvent;

type Listener = (event: StudioEvent) => void;

const listeners = new Set<Listener>();
let controller: AbortController | null = null;
let lastEventId: string | null = null;

async function run(signal: AbortSignal): Promise<void> {
  let delay = 1000;
  while (!signal.aborted) {
    try {
      const headers: Record<string, string> = { accept: "text/event-stream", ...authHeaders() };
      if (lastEventId) headers["last-event-id"] = lastEventId;
      const response = await fetch("/api/events", { headers, signal });
      if (response.status === 401) {
        await requireKey("the event stream needs the API key");
        continue;
      }
      if (!response.ok || !response.body) throw new Error(`GET /api/events: ${response.status}`);
      delay = 1000;
      await readSse(response.body, (event) => {
        if (event.id) lastEventId = event.id;
        for (const listener of listeners) listener(event);
      });
    } catch {
      if (signal.aborted) return;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 15_000);
  }
}

function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  if (!controller) {
    controller = new AbortController();
    void run(controller.signal);
  }
  return () => {
    listeners.delete(listener);
    // a page switch unsubscribes and resubscribes at once: keep the connection through it
    setTimeout(() => {
      if (listeners.size === 0 && controller) {
        controller.abort();
        controller = null;
      }
    }, 2000);
  };
}

/** Calls `onEvent` for each event of the given types (all when empty), for the component's life. */
export function useEvents(types: readonly StudioEventType[], onEvent: (event: StudioEvent) => void): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const key = types.join(",");
  useEffect(() => {
    const wanted = new Set(key === "" ? [] : key.split(","));
    return subscribe((event) => {
      if (wanted.size === 0 || wanted.has(event.type)) handler.current(event);
    });
  }, [key]);
}
