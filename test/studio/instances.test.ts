/**
 * The studio's instance lifecycle over real HTTP and SSE, with the vLLM emulator as the engine and a
 * captured 8 x H100 nvidia-smi: launch (202, then ready on the event stream), stop with nothing left,
 * failures with their cause and fixes, cancel, switch, restart, the state machine's 409s, malformed
 * bodies, logs and plan-vs-actual in SQLite.
 */
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Recipe } from "../../src/core/recipes/recipe.js";
import { loadRecipes } from "../../src/runtime/recipes/load-recipes.js";
import { readProcessIdentity } from "../../src/runtime/supervisor/process-identity.js";
import { listInstances, readInstance } from "../../src/runtime/supervisor/state-store.js";
import { createStoredRecipe } from "../../src/studio/recipes/store.js";
import {
  cleanUp,
  enginePortBase,
  groupMembers,
  isInstanceEvent,
  openStudio,
  QWEN,
  waitUntil,
} from "./lifecycle-helpers.js";
import { studioEnv } from "./studio-harness.js";

afterEach(cleanUp);

describe("studio instances", () => {
  it("launch answers 202 at once, reports progress and ready on the event stream, and stop leaves no process", async () => {
    const s = await openStudio();
    const events = await s.events();
    const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 60 } });
    expect(launched.status).toBe(202);
    expect(launched.body).toMatchObject({
      name: "qwen3-8b",
      status: "starting",
      gpus: [0],
      reason: "launch",
    });
    const name = launched.body.name as string;

    // the launch's "ready" goes out once the instance is recorded ready: a client reacting to it reads so
    await events.waitFor(
      (e) =>
        e.type === "launch" &&
        e.data.instance === name &&
        e.data.phase === "ready" &&
        e.data.line === undefined,
      60_000,
      `${name} launch ready`,
    );
    expect((await s.api(`/api/instances/${name}`)).body.status).toBe("ready");
    await events.waitFor(isInstanceEvent(name, "ready"), 60_000, `${name} ready`);
    const phases = events.events
      .filter((e) => e.type === "launch" && e.data.line === undefined)
      .map((e) => e.data.phase);
    expect(phases[0]).toBe("preparing");
    expect(phases).toContain("loading-weights");
    expect(events.events.some((e) => e.type === "launch" && typeof e.data.line === "string")).toBe(true);
    await events.waitFor((e) => e.type === "log" && e.data.instance === name, 10_000, "a log event");

    // metrics flow: requests to the engine show up as tokens/s in the scraped metrics
    const endpoint = (await s.api(`/api/instances/${name}`)).body.endpoint as string;
    // rates need two scrapes: the first one (a baseline) comes before the requests
    await events.waitFor((e) => e.type === "metrics" && e.data.instance === name, 20_000, "a first scrape");
    for (let i = 0; i < 3; i += 1) {
      const reply = await fetch(`${endpoint}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: QWEN, messages: [{ role: "user", content: "hello there" }] }),
      });
      expect(reply.status).toBe(200);
    }
    const flowing = await events.waitFor(
      (e) => e.type === "metrics" && e.data.instance === name && e.data.generationTokensPerSecond > 0,
      30_000,
      "generation tokens/s in a metrics event",
    );
    expect(flowing.data).toMatchObject({ engine: "vllm", stale: false });
    const scraped = await s.api(`/api/metrics/${name}`);
    expect(scraped.status).toBe(200);
    expect(scraped.body.instance).toBe(name);

    const one = await s.api(`/api/instances/${name}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ name, status: "ready", alive: true, healthy: true, autoRestart: false });
    expect(one.body.gpus.map((g: { index: number }) => g.index)).toEqual([0]);
    expect(
      one.body.planVsActual.find((r: { metric: string }) => r.metric === "weightsGiB")?.actual,
    ).toBeCloseTo(14.99, 2);
    const list = await s.api("/api/instances");
    expect(list.body.instances.map((i: { name: string }) => i.name)).toEqual([name]);

    const pva = await s.api(`/api/instances/${name}/plan-vs-actual`);
    expect(pva.body.rows.map((r: { metric: string }) => r.metric)).toContain("kvCacheTokens");
    expect(pva.body.rows.find((r: { metric: string }) => r.metric === "kvCacheTokens").actual).toBe(411_856);

    const status = await s.api("/api/status");
    expect(status.body.instances).toEqual([{ name, status: "ready" }]);
    const metrics = (await s.api("/metrics")).body as string;
    expect(metrics).toContain('servepilot_studio_instances{status="ready"} 1');
    expect(metrics).toContain('servepilot_studio_launches_total{result="ready"} 1');

    const logs = await s.api(`/api/instances/${name}/logs?lines=5`);
    expect(logs.body.lines.length).toBe(5);
    const logList = await s.api("/api/logs");
    expect(logList.body.logs[0]).toMatchObject({ instance: name });
    expect(logList.body.logs[0].files[0].file).toBe(`${name}.log`);

    const pid = one.body.pid as number;
    expect((await groupMembers(pid)).length).toBe(2);
    const stopped = await s.api(`/api/instances/${name}/stop`, { body: { graceSeconds: 5 } });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ name, status: "stopped", wasRunning: true, signal: "SIGTERM" });
    expect(await groupMembers(pid)).toEqual([]);
    expect(await readProcessIdentity(pid)).toBeNull();
    await events.waitFor(isInstanceEvent(name, "stopped"), 5_000, "stopped event");

    // plan-vs-actual stays once the instance is forgotten
    expect((await s.api(`/api/instances/${name}`, { method: "DELETE" })).status).toBe(200);
    expect((await s.api(`/api/instances/${name}`)).status).toBe(404);
    expect((await s.api(`/api/instances/${name}/plan-vs-actual`)).body.rows.length).toBeGreaterThan(0);
  });

  it("a launch that fails ends failed with the cause and fixes, and nothing left running", async () => {
    const s = await openStudio({
      env: studioEnv({ EMULATOR_SCENARIO: "oom", SERVEPILOT_PORT: enginePortBase() }),
    });
    const events = await s.events();
    const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 60 } });
    expect(launched.status).toBe(202);
    const failed = await events.waitFor(isInstanceEvent("qwen3-8b", "failed"), 60_000, "failed");
    expect(failed.data.failure.cause).toBe("cuda-out-of-memory");
    expect(failed.data.failure.fixes.length).toBeGreaterThan(0);
    const one = await s.api("/api/instances/qwen3-8b");
    expect(one.body).toMatchObject({
      status: "failed",
      alive: false,
      failure: { cause: "cuda-out-of-memory" },
    });
    expect(await groupMembers(launched.body.pid)).toEqual([]);
    const metrics = (await s.api("/metrics")).body as string;
    expect(metrics).toContain('servepilot_studio_launches_total{result="failed"} 1');
    // a failed instance can be launched again under its name, and forgotten
    expect((await s.api("/api/instances/qwen3-8b/stop", { body: {} })).status).toBe(409);
    expect((await s.api("/api/instances/qwen3-8b", { method: "DELETE" })).status).toBe(200);
  });

  it("refuses a launch that cannot start before anything runs, answering with the error", async () => {
    const s = await openStudio();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const taken = await s.api("/api/instances", { body: { model: QWEN, port } });
      expect(taken.status).toBe(422);
      expect(taken.body.error).toMatchObject({ code: "LAUNCH_FAILED" });
      expect(taken.body.error.message).toContain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
    const unknownRecipe = await s.api("/api/instances", { body: { recipeId: "no-such-recipe" } });
    expect(unknownRecipe.status).toBe(404);
    expect(unknownRecipe.body.error.message).toContain("recipeId no-such-recipe");
    const wrongRecipe = await s.api("/api/instances", { body: { model: QWEN, recipeId: "no-such-recipe" } });
    expect(wrongRecipe.status).toBe(400);
    expect((await s.api("/api/instances")).body.instances).toEqual([]);
    const metrics = (await s.api("/metrics")).body as string;
    expect(metrics).toContain('servepilot_studio_launches_total{result="refused"} 2');
  });

  it("launches a built-in recipe named by recipeId alone", async () => {
    const s = await openStudio();
    const events = await s.events();
    const launched = await s.api("/api/instances", { body: { recipeId: "qwen3-8b-h100-bf16-throughput" } });
    expect(launched.status).toBe(202);
    expect(launched.body).toMatchObject({
      name: "qwen3-8b",
      model: QWEN,
      recipeId: "qwen3-8b-h100-bf16-throughput",
    });
    await events.waitFor(isInstanceEvent("qwen3-8b", "ready"), 60_000, "ready");
  });

  it("cancel stops a launch still starting", async () => {
    const s = await openStudio({
      env: studioEnv({ EMULATOR_SCENARIO: "slow-start", SERVEPILOT_PORT: enginePortBase() }),
    });
    const events = await s.events();
    const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 120 } });
    expect(launched.status).toBe(202);
    await events.waitFor(
      (e) => e.type === "launch" && e.data.instance === "qwen3-8b" && e.data.phase === "loading-weights",
      30_000,
      "loading-weights",
    );
    const cancelled = await s.api("/api/instances/qwen3-8b/cancel", { method: "POST" });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("stopped");
    expect(await groupMembers(launched.body.pid)).toEqual([]);
    const event = await events.waitFor(isInstanceEvent("qwen3-8b", "stopped"), 5_000, "stopped");
    expect(event.data.failure.cause).toBe("cancelled");
    // nothing to cancel any more
    const again = await s.api("/api/instances/qwen3-8b/cancel", { method: "POST" });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/it is stopped/);
  });

  it("switch stops one instance and launches another as one operation", async () => {
    const s = await openStudio();
    const events = await s.events();
    const a = await s.api("/api/instances", { body: { model: QWEN, name: "model-a" } });
    await events.waitFor(isInstanceEvent("model-a", "ready"), 60_000, "A ready");
    const switched = await s.api("/api/instances/switch", {
      body: { stop: "model-a", launch: { model: QWEN, name: "model-b" } },
    });
    expect(switched.status).toBe(202);
    expect(switched.body).toMatchObject({
      name: "model-b",
      status: "starting",
      stopped: "model-a",
      reason: "switch",
    });
    expect(await groupMembers(a.body.pid)).toEqual([]);
    // B gets the GPU A had
    expect(switched.body.gpus).toEqual(a.body.gpus);
    await events.waitFor(isInstanceEvent("model-b", "ready"), 60_000, "B ready");
    const list = (await s.api("/api/instances")).body.instances as Array<{ name: string; status: string }>;
    expect(Object.fromEntries(list.map((i) => [i.name, i.status]))).toEqual({
      "model-a": "stopped",
      "model-b": "ready",
    });
    // switching away from a stopped instance is a conflict, and nothing is launched
    const refused = await s.api("/api/instances/switch", {
      body: { stop: "model-a", launch: { model: QWEN, name: "model-c" } },
    });
    expect(refused.status).toBe(409);
    expect((await s.api("/api/instances/model-c")).status).toBe(404);
  });

  it("restart stops and launches again under the same name, keeping the request", async () => {
    const s = await openStudio();
    const events = await s.events();
    const first = await s.api("/api/instances", { body: { model: QWEN, name: "svc", maxModelLen: 8192 } });
    await events.waitFor(isInstanceEvent("svc", "ready"), 60_000, "ready");
    const restarted = await s.api("/api/instances/svc/restart", { body: { graceSeconds: 5 } });
    expect(restarted.status).toBe(202);
    expect(restarted.body).toMatchObject({ name: "svc", status: "starting", reason: "restart" });
    expect(restarted.body.pid).not.toBe(first.body.pid);
    expect(await groupMembers(first.body.pid)).toEqual([]);
    await waitUntil("second ready", async () => {
      const one = await s.api("/api/instances/svc");
      return one.body.status === "ready" && one.body.pid === restarted.body.pid;
    });
    const logs = (await s.api("/api/instances/svc/logs?lines=400")).body.lines.join("\n");
    expect(logs).toContain("max_seq_len=8192");
  });

  it("refuses operations the state machine does not allow with 409 naming the status, and unknown names with 404", async () => {
    const s = await openStudio({
      env: studioEnv({ EMULATOR_SCENARIO: "slow-start", SERVEPILOT_PORT: enginePortBase() }),
    });
    const launched = await s.api("/api/instances", {
      body: { model: QWEN, name: "slow", timeoutSeconds: 120 },
    });
    expect(launched.status).toBe(202);
    const twice = await s.api("/api/instances", { body: { model: QWEN, name: "slow" } });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe("CONFLICT");
    expect(twice.body.error.message).toMatch(/cannot launch instance slow: it is starting/);
    const restart = await s.api("/api/instances/slow/restart", { method: "POST" });
    expect(restart.status).toBe(409);
    expect(restart.body.error.message).toMatch(/it is starting \(restart needs ready or failed or stopped\)/);
    const forget = await s.api("/api/instances/slow", { method: "DELETE" });
    expect(forget.status).toBe(409);
    expect((await s.api("/api/instances/nope/stop", { method: "POST" })).status).toBe(404);
    expect((await s.api("/api/instances/slow/stop", { body: { graceSeconds: 2 } })).status).toBe(200);
    const stopAgain = await s.api("/api/instances/slow/stop", { method: "POST" });
    expect(stopAgain.status).toBe(409);
    expect(stopAgain.body.error.details).toMatchObject({ status: "stopped", operation: "stop" });
  });

  it("rejects malformed bodies with 400 naming the field, and never takes an engine program or env", async () => {
    const s = await openStudio();
    const cases: Array<[unknown, string]> = [
      [{ model: QWEN, gpuCount: 0 }, "body.gpuCount"],
      [{ model: QWEN, engine: "tensorrt" }, "body.engine"],
      [{ model: QWEN, engineBin: "/bin/sh" }, "engineBin"],
      [{ model: QWEN, env: { LD_PRELOAD: "/tmp/x.so" } }, "env"],
      [{ model: QWEN, name: "Bad Name" }, "body.name"],
      [{ gpuCount: 1 }, "body.model"],
      [{ model: QWEN, gpuMemoryUtilization: 1.5 }, "body.gpuMemoryUtilization"],
    ];
    for (const [body, field] of cases) {
      const response = await s.api("/api/instances", { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe("INVALID_ARGUMENT");
      expect(response.body.error.message).toContain(field);
    }
    const badName = await s.api("/api/instances/..%2Fetc/logs");
    expect(badName.status).toBe(400);
    const badSwitch = await s.api("/api/instances/switch", {
      body: { stop: "a", launch: { model: QWEN }, extra: 1 },
    });
    expect(badSwitch.status).toBe(400);
    const badLines = await s.api("/api/instances/x/logs?lines=0");
    expect(badLines.status).toBe(400);
    expect(badLines.body.error.message).toContain("querystring.lines");
    const openapi = (await s.api("/api/openapi.json")).body;
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        "/api/instances",
        "/api/instances/{name}/stop",
        "/api/instances/switch",
        "/api/logs",
      ]),
    );
    const launchSchema = openapi.paths["/api/instances"].post.requestBody.content["application/json"].schema;
    expect(launchSchema.properties.gpuCount.description).toMatch(/GPUs/);
    expect(launchSchema.additionalProperties).toBe(false);
  });
});

describe("stored recipes", () => {
  it("launches a stored recipe with its extra engine arguments, and refuses one whose flag the engine lacks", async () => {
    const s = await openStudio();
    const events = await s.events();
    const library = await loadRecipes({ dataDir: s.dataDir });
    const base = library.records.find((r) => r.recipe.id === "qwen3-8b-h100-bf16-throughput")?.recipe;
    expect(base).toBeDefined();
    const recipe = { ...(base as Recipe), id: "my-qwen" };
    await createStoredRecipe(s.ctx.db, {
      recipe,
      extraArgs: ["--disable-log-stats"],
      autoRestart: true,
      engineProgram: null,
    });
    await createStoredRecipe(s.ctx.db, {
      recipe: { ...recipe, id: "bad-qwen" },
      extraArgs: ["--no-such-flag"],
      autoRestart: false,
      engineProgram: null,
    });
    const launched = await s.api("/api/instances", { body: { recipeId: "my-qwen" } });
    expect(launched.status).toBe(202);
    expect(launched.body).toMatchObject({ recipeId: "my-qwen", autoRestart: true, model: QWEN });
    await events.waitFor(isInstanceEvent("qwen3-8b", "ready"), 60_000, "ready");
    const record = await readInstance(s.dataDir, "qwen3-8b");
    expect(record?.argv.at(-1)).toBe("--disable-log-stats");

    const refused = await s.api("/api/instances", { body: { recipeId: "bad-qwen", name: "bad" } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain("--no-such-flag");
    expect((await s.api("/api/instances/bad")).status).toBe(404);
  });

  it("refuses a stored recipe that needs custom commands once the studio runs without them", async () => {
    const s = await openStudio();
    const library = await loadRecipes({});
    const base = library.records.find((r) => r.recipe.id === "qwen3-8b-h100-bf16-throughput")?.recipe;
    const recipe = { ...(base as Recipe), id: "preloaded", env: { LD_PRELOAD: "/tmp/hook.so" } };
    // stored directly, as a studio started with --allow-custom-commands would have stored it
    await createStoredRecipe(s.ctx.db, { recipe, extraArgs: [], autoRestart: false, engineProgram: null });
    const refused = await s.api("/api/instances", { body: { recipeId: "preloaded", name: "preloaded" } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain("env.LD_PRELOAD");
    expect(refused.body.error.message).toContain("--allow-custom-commands");
    expect((await s.api("/api/instances/preloaded")).status).toBe(404);
    expect(await listInstances(s.dataDir)).toEqual([]);
  });
});
