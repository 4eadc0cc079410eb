/**
 * /api/events over real HTTP: live delivery with filters, Last-Event-ID replay, the resync signal when
 * the gap is too large or the id is from another run, heartbeats, and a slow reader dropped without
 * holding back a fast one.
 */
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EventBus } from "../../src/studio/events/bus.js";
import { startTestStudio, type TestStudio } from "./studio-harness.js";

interface ReceivedEvent {
  id: string | null;
  event: string;
  data: unknown;
}

/** Reads an SSE response body into events (comments counted separately). */
function readStream(response: Response, abort: AbortController) {
  const events: ReceivedEvent[] = [];
  let comments = 0;
  let buffer = "";
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        if (block.startsWith(":")) {
          comments += 1;
          continue;
        }
        const fields = new Map<string, string>();
        for (const line of block.split("\n")) {
          const colon = line.indexOf(":");
          fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
        }
        if (!fields.has("data")) continue;
        events.push({
          id: fields.get("id") ?? null,
          event: fields.get("event") ?? "message",
          data: JSON.parse(fields.get("data") as string),
        });
      }
    }
  })();
  return {
    events,
    comments: () => comments,
    done,
    cancel: () => abort.abort(),
  };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const open: TestStudio[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function studio(options: Parameters<typeof startTestStudio>[0] = {}) {
  const s = await startTestStudio(options);
  open.push(s);
  return s;
}

async function subscribe(s: TestStudio, query = "", headers: Record<string, string> = {}) {
  const before = s.ctx.events.subscriberCount;
  const abort = new AbortController();
  const response = await fetch(`${s.url}/api/events${query}`, { headers, signal: abort.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const stream = readStream(response, abort);
  await waitFor(() => s.ctx.events.subscriberCount > before, "the subscription");
  return stream;
}

describe("event stream", () => {
  it("delivers published events live, filtered by type and instance", async () => {
    const s = await studio();
    const all = await subscribe(s);
    const onlyA = await subscribe(s, "?types=log&instance=a");
    s.ctx.events.publish("log", { instance: "a", line: "one" });
    s.ctx.events.publish("log", { instance: "b", line: "two" });
    s.ctx.events.publish("gpu", { gpus: [], marker: "test" });
    // the studio publishes its own events too (GPU samples): look at the ones this test published
    const ours = () =>
      all.events.filter(
        (e) => (e.event === "log" && e.data !== null) || (e.data as { marker?: string }).marker === "test",
      );
    await waitFor(() => ours().length >= 3, "three events");
    await waitFor(() => onlyA.events.length >= 1, "one filtered event");
    expect(ours().map((e) => e.event)).toEqual(["log", "log", "gpu"]);
    expect(onlyA.events).toEqual([
      { id: expect.stringMatching(/-\d+$/), event: "log", data: { instance: "a", line: "one" } },
    ]);
    all.cancel();
    onlyA.cancel();
  });

  it("replays what a reconnecting client missed after its Last-Event-ID", async () => {
    const s = await studio();
    const base = s.ctx.events.subscriberCount;
    const first = await subscribe(s, "?types=status");
    s.ctx.events.publish("status", { n: 1 });
    await waitFor(() => first.events.length === 1, "the first event");
    first.cancel();
    await waitFor(() => s.ctx.events.subscriberCount === base, "the disconnect");
    s.ctx.events.publish("status", { n: 2 });
    s.ctx.events.publish("status", { n: 3 });
    const again = await subscribe(s, "?types=status", { "last-event-id": first.events[0]?.id as string });
    await waitFor(() => again.events.length >= 2, "the replay");
    expect(again.events.map((e) => e.data)).toEqual([{ n: 2 }, { n: 3 }]);
    // the query parameter works the same for clients that cannot set headers
    const viaQuery = await subscribe(
      s,
      `?types=status&lastEventId=${encodeURIComponent(again.events[0]?.id as string)}`,
    );
    await waitFor(() => viaQuery.events.length >= 1, "the replay by query");
    expect(viaQuery.events.map((e) => e.data)).toEqual([{ n: 3 }]);
    again.cancel();
    viaQuery.cancel();
  });

  it("tells a client from another run to resync, then replays the buffer", async () => {
    const s = await studio();
    s.ctx.events.publish("status", { n: 1 });
    const stale = await subscribe(s, "?types=status", { "last-event-id": "zzzz-41" });
    await waitFor(() => stale.events.length >= 2, "resync and replay");
    expect(stale.events[0]?.data).toEqual({ resync: true });
    expect(stale.events[1]?.data).toEqual({ n: 1 });
    stale.cancel();
  });

  it("sends heartbeat comments on an idle stream", async () => {
    const s = await studio({ heartbeatMs: 50 });
    const idle = await subscribe(s);
    await waitFor(() => idle.comments() >= 2, "two heartbeats");
    idle.cancel();
  });

  it("drops a client that stops reading, while a reading client gets every event", async () => {
    const s = await studio();
    const url = new URL(s.url);
    const base = s.ctx.events.subscriberCount;
    const fast = await subscribe(s, "?types=log");
    // a raw socket that sends the request and never reads the response
    const slow = connect(Number(url.port), url.hostname);
    slow.pause();
    slow.write(
      `GET /api/events?types=log HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    await waitFor(() => s.ctx.events.subscriberCount === base + 2, "both subscriptions");
    const line = "x".repeat(64 * 1024);
    const total = 600;
    // in batches the reading client keeps up with; the stalled one falls further behind each time
    for (let i = 0; i < total; i += 1) {
      s.ctx.events.publish("log", { instance: "a", seq: i, line });
      if (i % 20 === 19) await waitFor(() => fast.events.length === i + 1, `event ${i} at the fast client`);
    }
    await waitFor(() => s.ctx.events.subscriberCount === base + 1, "the slow client to be dropped");
    await waitFor(() => fast.events.length === total, "every event at the fast client");
    expect(fast.events.map((e) => (e.data as { seq: number }).seq)).toEqual([...Array(total).keys()]);
    const metrics = (await s.api("/metrics")).body as string;
    expect(metrics).toMatch(/servepilot_studio_sse_dropped_clients_total 1\b/);
    fast.cancel();
    slow.destroy();
  });
});

describe("event bus", () => {
  it("keeps a bounded replay buffer and reports the gap beyond it", () => {
    const bus = new EventBus({ replayBuffer: 3, boot: "b1" });
    for (let i = 1; i <= 5; i += 1) bus.publish("status", { i });
    expect(bus.since("b1-4")).toEqual({ events: [expect.objectContaining({ seq: 5 })], gap: false });
    expect(bus.since("b1-5")).toEqual({ events: [], gap: false });
    const old = bus.since("b1-1");
    expect(old.gap).toBe(true);
    expect(old.events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(bus.since("b1-2").gap).toBe(false);
    expect(bus.since("b1-99").gap).toBe(true);
    expect(bus.since("garbage").gap).toBe(true);
    expect(bus.since(undefined)).toEqual({ events: [], gap: false });
  });
});
