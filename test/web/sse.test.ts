/**
 * The web UI's server-sent-events reader (web/src/sse.ts), property-based: any sequence of events,
 * written as the studio writes them (LF or CRLF, with comments and heartbeats), cut into chunks at any
 * points, reads back as the same events in order; any text at all parses without throwing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSseBlock, readSse, type SseEvent } from "../../web/src/sse.js";

const eventArb = fc.record({
  id: fc.option(fc.stringMatching(/^[0-9a-z-]{1,12}$/), { nil: null }),
  type: fc.stringMatching(/^[a-z_]{1,10}$/),
  data: fc.jsonValue(),
});

function encode(events: Array<{ id: string | null; type: string; data: unknown }>, crlf: boolean): string {
  const eol = crlf ? "\r\n" : "\n";
  return events
    .map((e) => {
      const lines = [": heartbeat"];
      if (e.id !== null) lines.push(`id: ${e.id}`);
      lines.push(`event: ${e.type}`);
      // multi-line data: JSON.stringify with indentation spans lines, each its own data: field
      for (const line of JSON.stringify(e.data, null, 1).split("\n")) lines.push(`data: ${line}`);
      return lines.join(eol) + eol + eol;
    })
    .join("");
}

function streamOf(text: string, cuts: number[]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const point of [...points, bytes.length]) {
    if (point > at) chunks.push(bytes.slice(at, point));
    at = Math.max(at, point);
  }
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

describe("web SSE reader", () => {
  it("reads back any events, however the stream is cut", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { maxLength: 8 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (events, crlf, cuts) => {
          const seen: SseEvent[] = [];
          await readSse(streamOf(encode(events, crlf), cuts) as never, (e) => seen.push(e));
          // what JSON carries (-0 reads back as 0)
          const sent = events.map((e) => ({
            id: e.id,
            type: e.type,
            data: JSON.parse(JSON.stringify(e.data)),
          }));
          expect(seen).toEqual(sent);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("parses any text without throwing: an event or null", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const event = parseSseBlock(text);
        expect(event === null || typeof event.type === "string").toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps data that is not JSON as text, and skips comment-only blocks", () => {
    expect(parseSseBlock("event: log\ndata: plain words")).toEqual({
      id: null,
      type: "log",
      data: "plain words",
    });
    expect(parseSseBlock(": just a heartbeat")).toBeNull();
    expect(parseSseBlock("data: 1\ndata: 2")).toEqual({ id: null, type: "message", data: "1\n2" });
  });
});
