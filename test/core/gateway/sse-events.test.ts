import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventData, SseEventSplitter } from "../../../src/core/gateway/sse-events.js";

function split(chunks: string[]) {
  const splitter = new SseEventSplitter();
  const events = chunks.flatMap((c) => splitter.push(c));
  const rest = splitter.rest();
  return rest === null ? events : [...events, rest];
}

describe("SseEventSplitter", () => {
  it("cuts a vLLM-style stream into events, CRLF included", () => {
    const stream = 'data: {"a":1}\n\ndata: {"b":2}\r\n\r\n: keep-alive\n\ndata: [DONE]\n\n';
    expect(split([stream])).toEqual(['data: {"a":1}', 'data: {"b":2}', ": keep-alive", "data: [DONE]"]);
    expect(eventData("event: x\ndata: one\ndata: two")).toBe("one\ntwo");
    expect(eventData(": comment")).toBeNull();
    expect(eventData("data:[DONE]")).toBe("[DONE]");
  });

  it("gives the same events however the bytes are chunked", () => {
    fc.assert(
      fc.property(
        fc.array(fc.json({ maxDepth: 2 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat({ max: 400 }), { maxLength: 10 }),
        fc.boolean(),
        (payloads, cuts, crlf) => {
          // two-line events (event: + data:), ended with LF or CRLF: a CRLF may be cut between chunks
          const events = payloads.map((p) => `event: e\ndata: ${p.replace(/\n/g, " ")}`);
          const eol = crlf ? "\r\n" : "\n";
          const stream = events.map((e) => `${e.replace("\n", eol)}${eol}${eol}`).join("");
          const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let last = 0;
          for (const i of at) {
            chunks.push(stream.slice(last, i));
            last = i;
          }
          chunks.push(stream.slice(last));
          expect(split(chunks)).toEqual(events.filter((e) => e.trim().length > 0));
        },
      ),
    );
  });
});
