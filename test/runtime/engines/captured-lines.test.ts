/**
 * Every captured engine log line (test/fixtures/engines/captured-lines.json, sources in SOURCES.md)
 * parses to the event recorded beside it, and the calibration rows' logLines give back the figures
 * recorded in data/calibration/vllm-memory.jsonl.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readVllmStartup } from "../../../src/runtime/engines/vllm-log.js";
import { PARSERS, readCapturedLines } from "./captured-lines.js";

const captured = readCapturedLines();

describe("captured engine log lines", () => {
  it("has a source link for every line", () => {
    expect(captured.length).toBeGreaterThanOrEqual(60);
    for (const row of captured) expect(row.source).toMatch(/^https:\/\//);
  });

  it.each(captured.map((row) => [row.engine, row.line.slice(0, 90), row] as const))(
    "%s: %s",
    (_engine, _l, row) => {
      const event = PARSERS[row.engine](row.line);
      if (row.expect === null) {
        expect(event).toBeNull();
      } else {
        expect(event).toMatchObject(row.expect);
      }
    },
  );
});

interface CalibrationRow {
  id: string;
  logLines?: string[];
  observed: Record<string, number | null>;
}

// Rows whose logLines quote two runs (before/after a change), so one fold cannot match both.
const TWO_RUN_ROWS = new Set(["pr2031-llama2-70b-4xa100-80-tp4", "i16570-qwen25-vl-72b-4xa100-40-tp4-v0"]);

describe("calibration logLines", () => {
  const rows = readFileSync(new URL("../../../data/calibration/vllm-memory.jsonl", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as CalibrationRow)
    .filter((row) => !TWO_RUN_ROWS.has(row.id));

  it("gives back the observed figures wherever a log line states them", () => {
    let compared = 0;
    for (const row of rows) {
      const { actual } = readVllmStartup(row.logLines ?? []);
      const pairs: [string, number | null, number | null | undefined][] = [
        ["weightsGiB", actual.weightsGiB, row.observed.weightsGiB],
        ["kvCacheGiB", actual.availableKvGiB, row.observed.kvCacheGiB],
        ["kvCacheTokens", actual.kvCacheTokens, row.observed.kvCacheTokens],
        ["maxConcurrency", actual.maxConcurrency, row.observed.maxConcurrency],
        ["gpuBlocks", actual.gpuBlocks, row.observed.gpuBlocks],
      ];
      for (const [field, parsed, observed] of pairs) {
        if (parsed === null || observed === null || observed === undefined) continue;
        compared += 1;
        expect(
          Math.abs(parsed - observed),
          `${row.id} ${field}: parsed ${parsed}, observed ${observed}`,
        ).toBeLessThan(0.011);
      }
    }
    expect(compared).toBeGreaterThanOrEqual(60);
  });
});
