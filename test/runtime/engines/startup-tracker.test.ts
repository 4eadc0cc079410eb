/** The streaming tracker: chunks split anywhere give the same state as whole lines. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createStartupTracker } from "../../../src/runtime/engines/startup-tracker.js";
import { readVllmStartup } from "../../../src/runtime/engines/vllm-log.js";
import { readCapturedLines } from "./captured-lines.js";

const vllmLines = readCapturedLines()
  .filter((row) => row.engine === "vllm" && row.expect?.type !== "failure")
  .map((row) => row.line);
const log = `${vllmLines.join("\n")}\n`;

describe("createStartupTracker", () => {
  it("gives the same state whatever the chunk boundaries", () => {
    const expected = readVllmStartup(vllmLines);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: log.length }), { maxLength: 20 }), (cuts) => {
        const tracker = createStartupTracker("vllm");
        const points = [0, ...[...cuts].sort((a, b) => a - b), log.length];
        for (let i = 1; i < points.length; i += 1) tracker.pushChunk(log.slice(points[i - 1], points[i]));
        tracker.flush();
        expect(tracker.state).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it("shows progress bars redrawn with carriage returns as they come", () => {
    const tracker = createStartupTracker("vllm");
    tracker.pushChunk("Loading safetensors checkpoint shards:   0% Completed | 0/4\r");
    tracker.pushChunk("Loading safetensors checkpoint shards:  50% Completed | 2/4\r");
    expect(tracker.state).toMatchObject({ phase: "loading-weights", phasePercent: 50 });
  });

  it("parses a last line without a newline only on flush", () => {
    const tracker = createStartupTracker("llamacpp");
    expect(tracker.pushChunk("main: server is listening on http://127.0.0.1:8080")).toEqual([]);
    expect(tracker.state.status).toBe("starting");
    expect(tracker.flush()).toEqual([{ type: "ready", url: "http://127.0.0.1:8080" }]);
    expect(tracker.state.status).toBe("ready");
  });

  it("uses the SGLang parser for sglang", () => {
    const tracker = createStartupTracker("sglang");
    tracker.pushLine(
      "[2025-12-29 18:33:05] INFO:     Uvicorn running on http://127.0.0.1:30000 (Press CTRL+C to quit)",
    );
    tracker.pushLine("[2025-12-29 18:33:06] The server is fired up and ready to roll!");
    expect(tracker.state).toMatchObject({ status: "ready", url: "http://127.0.0.1:30000" });
  });
});
