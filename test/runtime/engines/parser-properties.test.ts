/**
 * Properties of the engine log parsers: any text (random, or a real line with random damage) gives
 * an event or null and never throws; any sequence of events folds into a consistent state.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EngineLogEvent } from "../../../src/runtime/engines/log-events.js";
import { STARTUP_PHASES } from "../../../src/runtime/engines/log-events.js";
import { cleanLogLine, logLineMessage } from "../../../src/runtime/engines/log-line-text.js";
import { foldStartupEvent, initialStartupState } from "../../../src/runtime/engines/startup-state.js";
import { type EngineName, PARSERS, readCapturedLines } from "./captured-lines.js";

const captured = readCapturedLines();
const engines = Object.keys(PARSERS) as EngineName[];

/** A real line with a random slice cut out and random text put in its place. */
const damagedLine = fc
  .tuple(
    fc.constantFrom(...captured.map((row) => row.line)),
    fc.nat(),
    fc.nat(),
    fc.string({ maxLength: 40 }),
  )
  .map(([line, a, b, noise]) => {
    const start = a % (line.length + 1);
    const end = start + (b % (line.length - start + 1));
    return `${line.slice(0, start)}${noise}${line.slice(end)}`;
  });

const anyLine = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  damagedLine,
);

describe.each(engines)("%s parser", (engine) => {
  const parse = PARSERS[engine];

  it("never throws and returns an event or null", () => {
    fc.assert(
      fc.property(anyLine, (line) => {
        const event = parse(line);
        expect(event === null || typeof event.type === "string").toBe(true);
        if (event?.type === "phase" && event.percent !== null) {
          expect(event.percent).toBeGreaterThanOrEqual(0);
          expect(event.percent).toBeLessThanOrEqual(100);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("folds any stream of lines into a state whose phase is known", () => {
    fc.assert(
      fc.property(fc.array(anyLine, { maxLength: 30 }), (lines) => {
        let state = initialStartupState();
        for (const line of lines) {
          const event = parse(line);
          if (event) state = foldStartupEvent(state, event);
        }
        expect(STARTUP_PHASES).toContain(state.phase);
        expect(state.status === "failed").toBe(state.failures.length > 0);
        expect(new Set(state.failures.map((f) => f.cause)).size).toBe(state.failures.length);
      }),
      { numRuns: 200 },
    );
  });
});

describe("foldStartupEvent", () => {
  it("never moves the phase back, whatever the order of events", () => {
    const events = captured
      .map((row) => PARSERS[row.engine](row.line))
      .filter((event): event is EngineLogEvent => event !== null);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events), { maxLength: 40 }), (sequence) => {
        let state = initialStartupState();
        for (const event of sequence) {
          const next = foldStartupEvent(state, event);
          expect(STARTUP_PHASES.indexOf(next.phase)).toBeGreaterThanOrEqual(
            STARTUP_PHASES.indexOf(state.phase),
          );
          state = next;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("logLineMessage", () => {
  it("strips vLLM's, SGLang's and uvicorn's prefixes and keeps the message", () => {
    expect(
      logLineMessage(
        "(EngineCore_DP0 pid=8907) ERROR 11-22 13:51:11 [core.py:708] ValueError: No available memory for the cache blocks.",
      ),
    ).toBe("ValueError: No available memory for the cache blocks.");
    expect(logLineMessage("[2025-06-01 10:00:00 TP0] Load weight end. mem usage=15.3 GB")).toBe(
      "Load weight end. mem usage=15.3 GB",
    );
    expect(logLineMessage("ERROR:    [Errno 98] error while attempting to bind")).toBe(
      "[Errno 98] error while attempting to bind",
    );
  });

  it("never throws and returns part of the cleaned line, for any input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (line) => {
        const message = logLineMessage(line);
        expect(cleanLogLine(line).includes(message)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
