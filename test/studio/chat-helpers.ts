/** Chat test helpers: a studio with the emulated Qwen3-8B ready, and /complete read as its event stream. */
import { expect } from "vitest";
import { enginePortBase, isInstanceEvent, openStudio, QWEN } from "./lifecycle-helpers.js";
import { studioEnv } from "./studio-harness.js";

export type Studio = Awaited<ReturnType<typeof openStudio>>;
// biome-ignore lint/suspicious/noExplicitAny: tests navigate event payloads freely
export type ChatEvent = { event: string; data: any };

/** A studio with the emulated Qwen3-8B launched and ready; `env` adds emulator settings (EMULATOR_*). */
export async function studioWithQwen(env: Record<string, string> = {}) {
  const s = await openStudio({
    env: studioEnv({ SERVEPILOT_PORT: enginePortBase(), EMULATOR_TOOL_ARGS: '{"a":2,"b":3}', ...env }),
  });
  const events = await s.events();
  const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 60 } });
  expect(launched.status).toBe(202);
  await events.waitFor(isInstanceEvent("qwen3-8b", "ready"), 60_000, "qwen3-8b ready");
  return s;
}

/** POSTs /complete and reads its event stream to the end; `onEvent` may act on each event. */
export async function complete(
  s: Studio,
  chatId: string,
  body: Record<string, unknown>,
  onEvent: (event: ChatEvent) => void | Promise<void> = () => {},
  signal?: AbortSignal,
): Promise<{ status: number; events: ChatEvent[]; contentType: string | null }> {
  const response = await fetch(`${s.url}/api/chats/${chatId}/complete`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const events: ChatEvent[] = [];
  if (!response.ok || response.body === null) {
    events.push({ event: "http-error", data: await response.json() });
    return { status: response.status, events, contentType: response.headers.get("content-type") };
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let split = buffer.indexOf("\n\n");
      while (split !== -1) {
        const raw = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const event = /^event: (.*)$/m.exec(raw)?.[1];
        const data = /^data: (.*)$/m.exec(raw)?.[1];
        if (event && data !== undefined) {
          const parsed = { event, data: JSON.parse(data) };
          events.push(parsed);
          await onEvent(parsed);
        }
        split = buffer.indexOf("\n\n");
      }
    }
  } catch (error) {
    if (!signal?.aborted) throw error;
  }
  return { status: response.status, events, contentType: response.headers.get("content-type") };
}

export function named(events: ChatEvent[], name: string) {
  return events.filter((e) => e.event === name).map((e) => e.data);
}
