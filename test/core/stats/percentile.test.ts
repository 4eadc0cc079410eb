import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { percentile, percentilesOf, summaryPercentiles } from "../../../src/core/stats/percentile.js";

describe("percentile (numpy linear)", () => {
  it("matches numpy.percentile on hand-checked samples", () => {
    // numpy.percentile([1, 2, 3, 4], [50, 95, 99]) -> [2.5, 3.85, 3.97]
    const [p50, p95, p99] = percentilesOf([4, 1, 3, 2], [50, 95, 99]);
    expect(p50).toBe(2.5);
    expect(p95).toBeCloseTo(3.85, 10);
    expect(p99).toBeCloseTo(3.97, 10);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
    expect(summaryPercentiles([10, 20, 30])).toEqual({ p50: 20, p95: 29, p99: 29.8 });
  });

  it("rejects a percentile outside 0-100", () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it("lies between min and max, grows with p, and leaves the input alone", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 50 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (values, a, b) => {
          const copy = [...values];
          const [low, high] = percentilesOf(values, [Math.min(a, b), Math.max(a, b)]);
          expect(values).toEqual(copy);
          expect(low as number).toBeGreaterThanOrEqual(Math.min(...values));
          expect(high as number).toBeLessThanOrEqual(Math.max(...values));
          expect(low as number).toBeLessThanOrEqual(high as number);
        },
      ),
    );
  });
});
