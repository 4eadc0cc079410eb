/** The engine scraper with injected fetch and clock: rates between rounds, stale on failure. */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import type { EngineMetricMaps } from "../../../src/core/metrics/engine-metrics.js";
import { parsePromText } from "../../../src/core/metrics/prom-text.js";
import { loadEngineMetricMaps } from "../../../src/runtime/metrics/engine-metric-names.js";
import {
  type EngineBaseline,
  EngineScraper,
  type InstanceMetrics,
  type ScrapeTarget,
} from "../../../src/runtime/metrics/engine-scraper.js";

const FIXTURES = new URL("../../fixtures/metrics/", import.meta.url).pathname;
const fixture = (file: string) => readFileSync(`${FIXTURES}${file}`, "utf8");

const TARGET: ScrapeTarget = {
  instance: "qwen",
  model: "Qwen-32B",
  engine: "sglang",
  endpoint: "http://127.0.0.1:30000/",
  gpuIndices: [0],
};

/** sglang:generation_tokens_total in sglang-a.prom. */
const GENERATED_A = 20_000;

let maps: EngineMetricMaps;
beforeAll(async () => {
  maps = await loadEngineMetricMaps();
});

describe("EngineScraper", () => {
  it("derives figures from consecutive scrapes over the measured time, and marks failures stale", async () => {
    const bodies: Array<string | Error> = [
      fixture("sglang-a.prom"),
      fixture("sglang-b.prom"),
      new Error("connect ECONNREFUSED"),
    ];
    const urls: string[] = [];
    let now = 0;
    const results: InstanceMetrics[] = [];
    const scraper = new EngineScraper({
      maps,
      intervalMs: 1000,
      targets: async () => [TARGET, { ...TARGET, instance: "other", engine: "no-such-engine" }],
      clock: () => now,
      fetchText: async (url) => {
        urls.push(url);
        const body = bodies.shift();
        if (body instanceof Error || body === undefined) throw body ?? new Error("no more");
        return body;
      },
      onResult: (r) => results.push(r),
    });
    const [first] = await scraper.scrapeOnce();
    expect(urls).toEqual(["http://127.0.0.1:30000/metrics"]); // an engine without a map: skipped
    expect(first?.stale).toBe(false);
    expect(first?.metrics?.generationTokensPerSecond).toBeNull();
    expect(first?.metrics?.runningRequests).toBe(1);
    now = 4000; // 4 s later by the monotonic clock
    const [second] = await scraper.scrapeOnce();
    expect(second?.metrics?.generationTokensPerSecond).toBe(1000); // 4000 tokens / 4 s
    expect(second?.metrics?.intervalSeconds).toBe(4);
    now = 5000;
    const [third] = await scraper.scrapeOnce();
    expect(third?.stale).toBe(true);
    expect(third?.error).toContain("ECONNREFUSED");
    expect(third?.metrics?.generationTokensPerSecond).toBe(1000); // the last figures, marked stale
    expect(scraper.latestFor("qwen")).toEqual(third);
    expect(results).toHaveLength(3);
  });

  it("resumes an engine process from its stored baseline, counts one without from zero, an unknown one from its first scrape", async () => {
    const start = Date.parse("2026-11-22T10:00:00Z");
    const readyAt = (ms: number) => new Date(start + ms).toISOString();
    const at = (port: number, instance: string, ready: string | null): ScrapeTarget => ({
      ...TARGET,
      instance,
      endpoint: `http://127.0.0.1:${port}`,
      readyAt: ready,
    });
    const stored: Record<string, EngineBaseline> = {
      // counted up to sglang-a.prom by an earlier studio, 30 s before this scrape
      resumed: {
        instance: "resumed",
        readyAt: readyAt(-100_000),
        scrapedAtMs: start + 30_000,
        exposition: parsePromText(fixture("sglang-a.prom")),
      },
      // stored for an earlier process of the instance: this one was never counted
      restarted: {
        instance: "restarted",
        readyAt: readyAt(-100_000),
        scrapedAtMs: start,
        exposition: parsePromText(fixture("sglang-a.prom")),
      },
    };
    const results = new Map<string, InstanceMetrics>();
    const scraper = new EngineScraper({
      maps,
      intervalMs: 1000,
      countedBefore: (target) => stored[target.instance] ?? null,
      wallNow: () => start + 60_000,
      targets: async () => [
        at(1, "fresh", readyAt(20_000)),
        at(2, "resumed", readyAt(-100_000)),
        at(3, "restarted", readyAt(10_000)),
        at(4, "unknown", null),
        // ready "after" the scrape by a clock running a little ahead: averaged over one interval
        at(5, "ahead", readyAt(60_500)),
      ],
      fetchText: async (url) => fixture(url.includes(":2/") ? "sglang-b.prom" : "sglang-a.prom"),
      onResult: (r) => results.set(r.instance, r),
    });
    await scraper.scrapeOnce();
    const metrics = (instance: string) => results.get(instance)?.metrics;
    expect(metrics("fresh")?.generationTokens).toBe(GENERATED_A);
    expect(metrics("fresh")?.intervalSeconds).toBe(40);
    expect(metrics("fresh")?.generationTokensPerSecond).toBe(GENERATED_A / 40);
    expect(metrics("resumed")?.generationTokens).toBe(4000);
    expect(metrics("resumed")?.intervalSeconds).toBe(30);
    expect(metrics("restarted")?.generationTokens).toBe(GENERATED_A);
    expect(metrics("unknown")?.generationTokens).toBeNull();
    expect(metrics("unknown")?.intervalSeconds).toBeNull();
    expect(metrics("ahead")?.generationTokensPerSecond).toBe(GENERATED_A / 1);
    // what a flush stores: the last scrape of every process counted (not the one without readyAt)
    expect(
      scraper
        .baselines()
        .map((b) => [b.instance, b.readyAt, b.scrapedAtMs])
        .sort(),
    ).toEqual(
      [
        ["ahead", readyAt(60_500), start + 60_000],
        ["fresh", readyAt(20_000), start + 60_000],
        ["restarted", readyAt(10_000), start + 60_000],
        ["resumed", readyAt(-100_000), start + 60_000],
      ].sort(),
    );
  });

  it("takes a new readyAt on the same endpoint as a new engine process, and a process that comes back resumes", async () => {
    const start = Date.parse("2026-11-22T10:00:00Z");
    let targets: ScrapeTarget[] = [{ ...TARGET, readyAt: new Date(start + 10_000).toISOString() }];
    const bodies = [fixture("sglang-a.prom"), fixture("sglang-b.prom"), fixture("sglang-b.prom")];
    let wall = start + 20_000;
    const scraper = new EngineScraper({
      maps,
      intervalMs: 1000,
      countedBefore: () => null,
      wallNow: () => wall,
      targets: async () => targets,
      fetchText: async () => bodies.shift() ?? "",
    });
    const [first] = await scraper.scrapeOnce();
    expect(first?.metrics?.generationTokens).toBe(GENERATED_A);
    // restarted on the same port; its counters, new, are already above the old process's last ones
    targets = [{ ...TARGET, readyAt: new Date(start + 30_000).toISOString() }];
    wall = start + 40_000;
    const [second] = await scraper.scrapeOnce();
    expect(second?.metrics?.generationTokens).toBe(GENERATED_A + 4000);
    expect(second?.metrics?.intervalSeconds).toBe(10);
    // the instance drops out of the list and comes back: the same process resumes, not from zero
    const back = targets;
    targets = [];
    await scraper.scrapeOnce();
    targets = back;
    wall = start + 45_000;
    bodies.unshift(fixture("sglang-b.prom"));
    const [third] = await scraper.scrapeOnce();
    expect(third?.metrics?.generationTokens).toBe(0);
  });

  it("forgets instances that are no longer live", async () => {
    let targets = [TARGET];
    const scraper = new EngineScraper({
      maps,
      intervalMs: 1000,
      targets: async () => targets,
      fetchText: async () => fixture("sglang-a.prom"),
    });
    await scraper.scrapeOnce();
    expect(scraper.latest().map((r) => r.instance)).toEqual(["qwen"]);
    targets = [];
    await scraper.scrapeOnce();
    expect(scraper.latest()).toEqual([]);
    expect(scraper.latestFor("qwen")).toBeNull();
  });

  it("survives a target list that cannot be read", async () => {
    const errors: unknown[] = [];
    const scraper = new EngineScraper({
      maps,
      intervalMs: 1000,
      targets: async () => {
        throw new Error("instances/x.json: not valid JSON");
      },
      onTargetsError: (e) => errors.push(e),
    });
    await expect(scraper.scrapeOnce()).resolves.toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it("gives up on an engine that does not answer within the timeout", async () => {
    const scraper = new EngineScraper({
      maps,
      intervalMs: 1000,
      timeoutMs: 20,
      targets: async () => [TARGET],
      fetchText: (_url, signal) =>
        new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    });
    const [result] = await scraper.scrapeOnce();
    expect(result?.stale).toBe(true);
    expect(result?.error).toContain("no answer within 20 ms");
  });
});
