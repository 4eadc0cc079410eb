/**
 * Usage analytics on a small request log whose every figure is worked out by hand below (numpy
 * linear percentiles: rank = p/100 * (n - 1), interpolated between neighbours), plus the edge cases:
 * no rows, no TTFT, an empty earlier week, a filtered view.
 */
import { describe, expect, it } from "vitest";
import {
  computeUsage,
  lastDaysWindow,
  type UsageEnergyMinute,
  type UsageRequest,
  usageRowsFrom,
  utcMinute,
} from "../../../src/core/usage/analytics.js";

const TO = "2026-11-22T15:30:00.000Z";
const FROM = "2026-11-20T00:00:00.000Z"; // 3 UTC days: 20, 21, 22

function row(
  at: string,
  apiKeyId: string | null,
  model: string,
  status: number,
  tokens: [number | null, number | null, number | null],
  ttftMs: number | null,
  durationMs: number,
): UsageRequest {
  const names: Record<string, [string, string]> = {
    "key-1": ["alpha", "sp-alpha"],
    "key-2": ["beta", "sp-beta"],
  };
  const [keyName, keyPrefix] = apiKeyId === null ? [null, null] : (names[apiKeyId] ?? [null, null]);
  const [promptTokens, completionTokens, cachedTokens] = tokens;
  return {
    at,
    apiKeyId,
    keyName,
    keyPrefix,
    model,
    status,
    promptTokens,
    completionTokens,
    cachedTokens,
    ttftMs,
    durationMs,
  };
}

// In the window (1-6):
const WINDOW_ROWS: UsageRequest[] = [
  row("2026-11-20T09:15:00.000Z", "key-1", "model-a", 200, [100, 50, 20], 40, 1000), // 1
  row("2026-11-20T09:45:00.000Z", null, "model-a", 200, [200, 100, 0], null, 2000), // 2
  row("2026-11-21T14:00:00.000Z", "key-1", "model-b", 500, [null, null, null], null, 50), // 3
  row("2026-11-22T09:05:00.000Z", "key-2", "model-a", 200, [300, 150, 100], 60, 3000), // 4
  row("2026-11-22T15:00:00.000Z", "key-1", "model-b", 429, [null, null, null], null, 5), // 5
  row("2026-11-22T15:10:00.000Z", "key-2", "model-b", 200, [400, 200, null], 100, 4000), // 6
];
// Before the window, for week over week only:
const EARLIER_ROWS: UsageRequest[] = [
  row("2026-11-17T12:00:00.000Z", null, "model-a", 200, [50, 50, null], null, 500), // current week
  row("2026-11-15T15:00:00.000Z", null, "model-a", 200, [100, 100, null], null, 100), // previous week
  row("2026-11-12T10:00:00.000Z", null, "model-a", 200, [1000, 500, null], null, 100), // previous week
  row("2026-11-01T10:00:00.000Z", null, "model-a", 200, [9999, 9999, null], null, 100), // neither
];
const ENERGY: UsageEnergyMinute[] = [
  { minute: "2026-11-19T23:59Z", joules: 1000 }, // before the window
  { minute: "2026-11-20T00:00Z", joules: 3600 },
  { minute: "2026-11-21T12:00Z", joules: 1800 },
  { minute: "2026-11-22T15:30Z", joules: 1800 }, // the minute of `to`: in
  { minute: "2026-11-22T15:31Z", joules: 999 }, // after the window
];

describe("computeUsage", () => {
  const usage = computeUsage({
    requests: [...EARLIER_ROWS, ...WINDOW_ROWS],
    energy: ENERGY,
    from: FROM,
    to: TO,
  });

  it("totals: 6 requests, 4 of them 2xx, tokens summed with missing counts as 0", () => {
    expect(usage.window).toEqual({ from: FROM, to: TO, days: 3 });
    expect(usage.totals).toEqual({
      requests: 6,
      succeeded: 4,
      failed: 2, // the 500 and the 429
      successRate: 4 / 6,
      promptTokens: 1000, // 100 + 200 + 300 + 400
      completionTokens: 500, // 50 + 100 + 150 + 200
      cachedTokens: 120, // 20 + 0 + 100
      totalTokens: 1500,
    });
  });

  it("latency over succeeded requests, TTFT over rows that have one (numpy linear)", () => {
    // durations [1000, 2000, 3000, 4000]: p50 rank 1.5 -> 2500; p95 rank 2.85 -> 3850; p99 rank 2.97 -> 3970
    expect(usage.latencyMs.p50).toBeCloseTo(2500, 9);
    expect(usage.latencyMs.p95).toBeCloseTo(3850, 9);
    expect(usage.latencyMs.p99).toBeCloseTo(3970, 9);
    // ttft [40, 60, 100]: p50 rank 1 -> 60; p95 rank 1.9 -> 96; p99 rank 1.98 -> 99.2
    expect(usage.ttftMs.p50).toBeCloseTo(60, 9);
    expect(usage.ttftMs.p95).toBeCloseTo(96, 9);
    expect(usage.ttftMs.p99).toBeCloseTo(99.2, 9);
  });

  it("tokens per request: means over the 4 rows with token counts", () => {
    expect(usage.tokensPerRequest).toEqual({ requests: 4, prompt: 250, completion: 125, total: 375 });
  });

  it("per model, most requests first then by name", () => {
    expect(usage.byModel).toHaveLength(2);
    const [a, b] = usage.byModel;
    // model-a: rows 1, 2, 4; durations [1000, 2000, 3000] p95 rank 1.9 -> 2900; ttft [40, 60] p50 -> 50
    expect(a).toMatchObject({
      model: "model-a",
      requests: 3,
      succeeded: 3,
      failed: 0,
      successRate: 1,
      promptTokens: 600,
      completionTokens: 300,
      totalTokens: 900,
      latencyP50Ms: 2000,
      ttftP50Ms: 50,
    });
    expect(a?.latencyP95Ms).toBeCloseTo(2900, 9);
    // model-b: rows 3, 5, 6; only row 6 succeeded
    expect(b).toEqual({
      model: "model-b",
      requests: 3,
      succeeded: 1,
      failed: 2,
      successRate: 1 / 3,
      promptTokens: 400,
      completionTokens: 200,
      totalTokens: 600,
      latencyP50Ms: 4000,
      latencyP95Ms: 4000,
      ttftP50Ms: 100,
    });
  });

  it("per key, with names, the admin key as 'admin / loopback'", () => {
    expect(usage.byKey.map((k) => [k.keyId, k.name, k.prefix, k.requests])).toEqual([
      ["key-1", "alpha", "sp-alpha", 3],
      ["key-2", "beta", "sp-beta", 2],
      ["admin", "admin / loopback", null, 1],
    ]);
    const [k1, k2, admin] = usage.byKey;
    expect(k1).toMatchObject({ successRate: 1 / 3, totalTokens: 150, latencyP50Ms: 1000, ttftP50Ms: 40 });
    // key-2: durations [3000, 4000] p50 3500, p95 rank 0.95 -> 3950; ttft [60, 100] p50 80
    expect(k2).toMatchObject({ successRate: 1, promptTokens: 700, completionTokens: 350, totalTokens: 1050 });
    expect(k2?.latencyP50Ms).toBeCloseTo(3500, 9);
    expect(k2?.latencyP95Ms).toBeCloseTo(3950, 9);
    expect(k2?.ttftP50Ms).toBeCloseTo(80, 9);
    expect(admin).toMatchObject({
      totalTokens: 300,
      latencyP50Ms: 2000,
      latencyP95Ms: 2000,
      ttftP50Ms: null,
    });
  });

  it("every UTC day of the window, the day without tokens included", () => {
    expect(usage.days).toEqual([
      {
        date: "2026-11-20",
        requests: 2,
        failures: 0,
        promptTokens: 300,
        completionTokens: 150,
        totalTokens: 450,
      },
      { date: "2026-11-21", requests: 1, failures: 1, promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      {
        date: "2026-11-22",
        requests: 3,
        failures: 1,
        promptTokens: 700,
        completionTokens: 350,
        totalTokens: 1050,
      },
    ]);
  });

  it("hourly pattern: 24 UTC hours", () => {
    expect(usage.hourly).toHaveLength(24);
    expect(usage.hourly.filter((h) => h.requests > 0)).toEqual([
      { hour: 9, requests: 3, totalTokens: 900 }, // rows 1, 2, 4: 150 + 300 + 450
      { hour: 14, requests: 1, totalTokens: 0 },
      { hour: 15, requests: 2, totalTokens: 600 },
    ]);
    expect(usage.hourly.map((h) => h.hour)).toEqual([...Array(24).keys()]);
  });

  it("week over week: the 7 days up to `to` against the 7 before", () => {
    // current (11-15T15:30, 11-22T15:30]: rows 1-6 and 11-17 -> 7 requests, 1500 + 100 tokens
    // previous (11-08T15:30, 11-15T15:30]: 11-15T15:00 and 11-12 -> 2 requests, 200 + 1500 tokens
    expect(usage.weekOverWeek.current).toEqual({
      from: "2026-11-15T15:30:00.000Z",
      to: TO,
      requests: 7,
      totalTokens: 1600,
    });
    expect(usage.weekOverWeek.previous).toEqual({
      from: "2026-11-08T15:30:00.000Z",
      to: "2026-11-15T15:30:00.000Z",
      requests: 2,
      totalTokens: 1700,
    });
    expect(usage.weekOverWeek.requestsChangePercent).toBeCloseTo(250, 9); // (7 - 2) / 2 * 100
    expect(usage.weekOverWeek.tokensChangePercent).toBeCloseTo(-5.882352941176471, 9); // -100 / 1700 * 100
  });

  it("energy: the window's minutes, Wh and Wh per million tokens", () => {
    // 3600 + 1800 + 1800 J = 7200 J = 2 Wh; 2 Wh / 1500 tokens * 1e6 = 1333.33 Wh/Mtok
    expect(usage.energy.minutes).toBe(3);
    expect(usage.energy.joules).toBe(7200);
    expect(usage.energy.wh).toBeCloseTo(2, 12);
    expect(usage.energy.whPerMillionTokens).toBeCloseTo(4000 / 3, 9);
  });
});

describe("computeUsage edge cases", () => {
  it("no rows: zeros, nulls for rates and percentiles, every day still listed", () => {
    const usage = computeUsage({ requests: [], energy: [], from: FROM, to: TO });
    expect(usage.totals).toEqual({
      requests: 0,
      succeeded: 0,
      failed: 0,
      successRate: null,
      promptTokens: 0,
      completionTokens: 0,
      cachedTokens: 0,
      totalTokens: 0,
    });
    expect(usage.latencyMs).toEqual({ p50: null, p95: null, p99: null });
    expect(usage.ttftMs).toEqual({ p50: null, p95: null, p99: null });
    expect(usage.tokensPerRequest).toEqual({ requests: 0, prompt: null, completion: null, total: null });
    expect(usage.byModel).toEqual([]);
    expect(usage.byKey).toEqual([]);
    expect(usage.days.map((d) => [d.date, d.requests])).toEqual([
      ["2026-11-20", 0],
      ["2026-11-21", 0],
      ["2026-11-22", 0],
    ]);
    expect(usage.hourly.every((h) => h.requests === 0 && h.totalTokens === 0)).toBe(true);
    expect(usage.weekOverWeek.requestsChangePercent).toBeNull();
    expect(usage.weekOverWeek.tokensChangePercent).toBeNull();
    expect(usage.energy).toEqual({ minutes: 0, joules: 0, wh: 0, whPerMillionTokens: null });
  });

  it("no TTFT recorded: TTFT percentiles null, latency still computed", () => {
    const requests = [
      row("2026-11-22T10:00:00.000Z", null, "m", 200, [10, 10, null], null, 100),
      row("2026-11-22T11:00:00.000Z", null, "m", 200, [10, 10, null], null, 300),
    ];
    const usage = computeUsage({ requests, energy: [], from: FROM, to: TO });
    expect(usage.ttftMs).toEqual({ p50: null, p95: null, p99: null });
    expect(usage.byModel[0]?.ttftP50Ms).toBeNull();
    // [100, 300]: p50 200, p95 rank 0.95 -> 290, p99 rank 0.99 -> 298
    expect(usage.latencyMs.p50).toBeCloseTo(200, 9);
    expect(usage.latencyMs.p95).toBeCloseTo(290, 9);
    expect(usage.latencyMs.p99).toBeCloseTo(298, 9);
  });

  it("an empty earlier week: change percent null, current week counted", () => {
    const requests = [row("2026-11-22T10:00:00.000Z", null, "m", 200, [30, 70, null], null, 100)];
    const usage = computeUsage({ requests, energy: [], from: FROM, to: TO });
    expect(usage.weekOverWeek.current.requests).toBe(1);
    expect(usage.weekOverWeek.current.totalTokens).toBe(100);
    expect(usage.weekOverWeek.previous.requests).toBe(0);
    expect(usage.weekOverWeek.requestsChangePercent).toBeNull();
    expect(usage.weekOverWeek.tokensChangePercent).toBeNull();
  });

  it("energy without tokens, or with filtered requests: no energy per token", () => {
    const energy = [{ minute: "2026-11-22T10:00Z", joules: 360 }];
    const none = computeUsage({ requests: [], energy, from: FROM, to: TO });
    expect(none.energy).toEqual({ minutes: 1, joules: 360, wh: 0.1, whPerMillionTokens: null });
    const requests = [row("2026-11-22T10:00:00.000Z", null, "m", 200, [30, 70, null], null, 100)];
    const filtered = computeUsage({ requests, energy, from: FROM, to: TO, filtered: true });
    expect(filtered.energy.whPerMillionTokens).toBeNull();
    const whole = computeUsage({ requests, energy, from: FROM, to: TO });
    expect(whole.energy.whPerMillionTokens).toBeCloseTo(1000, 9); // 0.1 Wh / 100 tokens * 1e6
  });

  it("non-2xx statuses are failures (3xx included)", () => {
    const requests = [
      row("2026-11-22T10:00:00.000Z", null, "m", 204, [null, null, null], null, 1),
      row("2026-11-22T10:00:01.000Z", null, "m", 302, [null, null, null], null, 1),
      row("2026-11-22T10:00:02.000Z", null, "m", 199, [null, null, null], null, 1),
    ];
    const usage = computeUsage({ requests, energy: [], from: FROM, to: TO });
    expect(usage.totals).toMatchObject({ requests: 3, succeeded: 1, failed: 2 });
  });

  it("refuses a window that ends before it starts, or an unreadable time", () => {
    expect(() => computeUsage({ requests: [], energy: [], from: TO, to: FROM })).toThrow(/after/);
    expect(() => computeUsage({ requests: [], energy: [], from: "yesterday", to: TO })).toThrow(/ISO/);
  });
});

describe("windows and minutes", () => {
  it("lastDaysWindow starts at 00:00Z of the first day and ends now", () => {
    const now = Date.parse(TO);
    expect(lastDaysWindow(now, 1)).toEqual({ from: "2026-11-22T00:00:00.000Z", to: TO });
    expect(lastDaysWindow(now, 14)).toEqual({ from: "2026-11-09T00:00:00.000Z", to: TO });
    expect(() => lastDaysWindow(now, 0)).toThrow(RangeError);
  });

  it("rows reach back 14 days before the end for week over week", () => {
    expect(usageRowsFrom(FROM, TO)).toBe("2026-11-08T15:30:00.000Z");
    expect(usageRowsFrom("2026-10-01T00:00:00.000Z", TO)).toBe("2026-10-01T00:00:00.000Z");
  });

  it("utcMinute keys minutes as the gpu_energy table does", () => {
    expect(utcMinute(Date.parse("2026-11-22T15:04:59.999Z"))).toBe("2026-11-22T15:04Z");
  });
});
