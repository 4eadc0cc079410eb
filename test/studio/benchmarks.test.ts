/**
 * Benchmarks in a real studio: the vLLM emulator launched through POST /api/instances, a benchmark
 * through the studio's own gateway (202, `benchmark` events, done), its row with settings, planned
 * estimate and results, the model's peak metrics, cancel, stop-while-running, and the validation,
 * 404 and 409 paths.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  cleanUp,
  enginePortBase,
  isInstanceEvent,
  openStudio,
  QWEN,
  waitUntil,
} from "./lifecycle-helpers.js";
import { studioEnv } from "./studio-harness.js";

afterEach(cleanUp);

type Studio = Awaited<ReturnType<typeof openStudio>>;

async function launchQwen(s: Studio): Promise<string> {
  const events = await s.events();
  const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 60 } });
  expect(launched.status).toBe(202);
  const name = launched.body.name as string;
  await events.waitFor(isInstanceEvent(name, "ready"), 60_000, `${name} ready`);
  return name;
}

describe("studio benchmarks", () => {
  it("benchmarks a launched model through the gateway, stores the results and the peak", async () => {
    const s = await openStudio();
    const name = await launchQwen(s);
    const events = await s.events();

    const started = await s.api("/api/benchmarks", {
      body: { model: QWEN, concurrency: 2, requests: 6, promptTokens: 48, outputTokens: 8 },
    });
    expect(started.status).toBe(202);
    expect(started.body).toEqual({ id: expect.stringMatching(/^bench-/), status: "running" });
    const id = started.body.id as string;

    const done = await events.waitFor(
      (e) => e.type === "benchmark" && e.data.id === id && e.data.status === "done",
      60_000,
      "benchmark done",
    );
    expect(done.data).toMatchObject({ model: QWEN, completed: 6, failed: 0, total: 6 });
    expect(
      events.events.some((e) => e.type === "benchmark" && e.data.id === id && e.data.status === "running"),
    ).toBe(true);

    const row = await s.api(`/api/benchmarks/${id}`);
    expect(row.status).toBe(200);
    expect(row.body).toMatchObject({
      id,
      model: QWEN,
      target: name,
      status: "done",
      error: null,
      settings: { concurrency: 2, requests: 6, promptTokens: 48, outputTokens: 8 },
      progress: null,
    });
    expect(row.body.finishedAt).not.toBeNull();
    const results = row.body.results;
    expect(results.target.url).toBe(`${s.url}/v1/chat/completions`);
    expect(results.summary.requests).toEqual({ total: 6, succeeded: 6, failed: 0 });
    expect(results.summary.totalOutputTokens).toBe(48);
    expect(results.summary.meanPromptTokens).toBe(48);
    expect(results.summary.ttftMs.p95).not.toBeNull();
    expect(row.body.planned.figures.outputTokensPerSecond).toBeGreaterThan(0);
    expect(results.comparison).toHaveLength(3);

    // the requests went through the gateway, which records them (the warm-up one too)
    await waitUntil("the gateway's request rows", async () => {
      const rows = await s.ctx.db.selectFrom("requests").selectAll().where("model", "=", QWEN).execute();
      return rows.length >= 7;
    });

    const peak = await s.ctx.db
      .selectFrom("peak_metrics")
      .selectAll()
      .where("model", "=", QWEN)
      .executeTakeFirstOrThrow();
    expect(peak.engine).toBe("vllm");
    expect(peak.generation_tokens_per_second).toBeGreaterThanOrEqual(results.summary.outputTokensPerSecond);
    expect(peak.ttft_ms).toBeLessThanOrEqual(results.summary.ttftMs.mean);
    expect(peak.tpot_ms).toBeLessThanOrEqual(results.summary.tpotMs.mean);

    const list = await s.api(`/api/benchmarks?model=${encodeURIComponent(QWEN)}`);
    expect(list.body.count).toBe(1);
    expect(list.body.benchmarks[0].id).toBe(id);
    expect((await s.api("/api/benchmarks?model=other")).body.count).toBe(0);

    const cancelDone = await s.api(`/api/benchmarks/${id}/cancel`, { method: "POST" });
    expect(cancelDone.status).toBe(409);

    const removed = await s.api(`/api/benchmarks/${id}`, { method: "DELETE" });
    expect(removed.status).toBe(200);
    expect((await s.api(`/api/benchmarks/${id}`)).status).toBe(404);
  });

  it("cancels a running benchmark, and one left running at studio stop is marked cancelled", async () => {
    const env = studioEnv({ SERVEPILOT_PORT: enginePortBase(), EMULATOR_TOKEN_DELAY_MS: "25" });
    const s = await openStudio({ env });
    await launchQwen(s);

    const body = { model: QWEN, concurrency: 1, requests: 500, promptTokens: 16, outputTokens: 12 };
    const first = await s.api("/api/benchmarks", { body });
    expect(first.status).toBe(202);
    const id = first.body.id as string;
    await waitUntil("a first request measured", async () => {
      const one = await s.api(`/api/benchmarks/${id}`);
      return one.body.progress?.completed >= 1;
    });
    const busy = await s.api(`/api/benchmarks/${id}`, { method: "DELETE" });
    expect(busy.status).toBe(409);
    expect(busy.body.error.hint).toContain("/cancel");
    const cancelled = await s.api(`/api/benchmarks/${id}/cancel`, { method: "POST" });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id, status: "cancelled", error: "cancelled" });
    expect(cancelled.body.results.cancelled).toBe(true);
    expect(cancelled.body.results.summary.requests.total).toBeLessThan(500);

    const second = await s.api("/api/benchmarks", { body });
    const secondId = second.body.id as string;
    await waitUntil("a first request measured", async () => {
      const one = await s.api(`/api/benchmarks/${secondId}`);
      return one.body.progress?.completed >= 1;
    });
    await s.close();

    const again = await openStudio({ dataDir: s.dataDir, env });
    const row = await again.api(`/api/benchmarks/${secondId}`);
    expect(row.body).toMatchObject({ status: "cancelled", error: "the studio stopped while it ran" });
    expect(row.body.finishedAt).not.toBeNull();
  });

  it("validates the body, and answers 404 for a model nothing serves and an unknown id", async () => {
    const s = await openStudio();
    const bad = await s.api("/api/benchmarks", { body: { model: QWEN, concurrency: 0, extra: 1 } });
    expect(bad.status).toBe(400);
    const fields = bad.body.error.details.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(["body.concurrency"]));
    const fractional = await s.api("/api/benchmarks", { body: { model: QWEN, outputTokens: 1.5 } });
    expect(fractional.status).toBe(400);

    const none = await s.api("/api/benchmarks", { body: { model: "nobody/serves-this" } });
    expect(none.status).toBe(404);
    expect(none.body.error.message).toBe('no running instance serves model "nobody/serves-this"');

    expect((await s.api("/api/benchmarks/bench-unknown")).status).toBe(404);
    expect((await s.api("/api/benchmarks/bench-unknown/cancel", { method: "POST" })).status).toBe(404);
    expect((await s.api("/api/benchmarks/bench-unknown", { method: "DELETE" })).status).toBe(404);
    const list = await s.api("/api/benchmarks");
    expect(list.body).toEqual({ benchmarks: [], count: 0 });
    const openapi = await s.api("/api/openapi.json");
    expect(openapi.body.paths["/api/benchmarks"].post.tags).toEqual(["benchmarks"]);
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(["/api/benchmarks/{id}", "/api/benchmarks/{id}/cancel"]),
    );
  });
});
