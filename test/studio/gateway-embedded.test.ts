/**
 * The gateway in front of a real engine: the embedded engine (llama.cpp through node-llama-cpp) on a
 * tiny GGUF written at test time. The `openai` client streams through the gateway; its usage rows
 * match what the engine reported; a client that aborts a stream ends the engine's request; an
 * on-demand instance is unloaded after its idle TTL and started again by the next request.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { isEmbeddedEngineInstalled } from "../../src/runtime/engines/embedded/index.js";
import { gatewayRecorder } from "../../src/studio/modules/gateway.js";
import { writeTinyGguf } from "../helpers/tiny-gguf.js";
import { cleanUp, isInstanceEvent, openStudio, waitUntil } from "./lifecycle-helpers.js";

const installed = await isEmbeddedEngineInstalled();
let model = "";
beforeAll(async () => {
  model = await writeTinyGguf(mkdtempSync(join(tmpdir(), "sp-gw-tiny-")));
});
afterEach(cleanUp);

async function launchTiny(s: Awaited<ReturnType<typeof openStudio>>, extra: Record<string, unknown> = {}) {
  const events = await s.events();
  const launched = await s.api("/api/instances", {
    body: { model, engine: "embedded", threads: 1, name: "tiny", timeoutSeconds: 120, ...extra },
  });
  expect(launched.status, JSON.stringify(launched.body)).toBe(202);
  await events.waitFor(isInstanceEvent("tiny", "ready"), 120_000, "tiny ready");
  return events;
}

async function engineGauge(endpoint: string, name: string): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`llamacpp:${name} `));
  return Number(line?.split(" ")[1]);
}

describe.skipIf(!installed)("gateway with the embedded engine", () => {
  it("streams through the gateway, records the engine's usage, and an aborted stream ends upstream", async () => {
    const s = await openStudio();
    await launchTiny(s);
    const endpoint = (await s.api("/api/instances/tiny")).body.endpoint as string;
    // the first scrape of its /metrics (the baseline its counters are counted from)
    const scraped = await waitUntil("the embedded engine scraped", async () => {
      const r = await s.api("/api/metrics/tiny");
      return r.status === 200 && r.body.stale === false && r.body.error === null ? r.body : null;
    });
    expect(scraped).toMatchObject({ engine: "embedded", runningRequests: 0, waitingRequests: 0 });
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "EMPTY", maxRetries: 0 });

    const stream = await client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "Say something." }],
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    let deltas = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) deltas += 1;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBe(8);

    const plain = await client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "Again." }],
      max_tokens: 6,
    });
    expect(plain.usage?.completion_tokens).toBe(6);

    // abort a long generation after its first tokens: the engine stops and frees the request
    const controller = new AbortController();
    const long = await client.chat.completions.create(
      {
        model: "tiny",
        messages: [{ role: "user", content: "Go on and on." }],
        max_tokens: 400,
        stream: true,
      },
      { signal: controller.signal },
    );
    let seen = 0;
    // the SDK ends the iteration quietly once its signal is aborted
    for await (const chunk of long) {
      if (chunk.choices[0]?.delta?.content) seen += 1;
      if (seen === 2) controller.abort();
    }
    expect(seen).toBeGreaterThanOrEqual(2);
    await waitUntil("the engine to end the aborted request", async () =>
      (await engineGauge(endpoint, "requests_processing")) === 0 ? true : null,
    );

    await gatewayRecorder(s.ctx).flush();
    const rows = await waitUntil("three request rows", async () => {
      await gatewayRecorder(s.ctx).flush();
      const r = await s.ctx.db.selectFrom("requests").selectAll().orderBy("id").execute();
      return r.length === 3 ? r : null;
    });
    expect(rows[0]).toMatchObject({
      status: 200,
      stream: 1,
      instance: "tiny",
      prompt_tokens: usage?.prompt_tokens,
      completion_tokens: 8,
    });
    expect(rows[1]).toMatchObject({
      status: 200,
      prompt_tokens: plain.usage?.prompt_tokens,
      completion_tokens: 6,
    });
    expect(rows[2]).toMatchObject({
      status: 499,
      error: "the client closed the connection",
      completion_tokens: null,
    });
    // the engine saw the abort: fewer than the 400 tokens asked for were generated
    const predicted = await engineGauge(endpoint, "tokens_predicted_total");
    expect(predicted).toBeLessThan(8 + 6 + 400);

    // the studio scrapes the embedded engine like llama-server: the tokens counted since the first
    // scrape reach the lifetime totals of its model
    await waitUntil("the lifetime tokens of the embedded engine", async () => {
      const lifetime = await s.api("/api/metrics/lifetime");
      return (lifetime.body.models?.tiny?.generation_tokens ?? 0) >= 8 + 6 ? true : null;
    });
  });

  it("unloads an on-demand instance after its idle TTL and starts it again on the next request", async () => {
    const s = await openStudio({ idleCheckMs: 200 });
    const events = await launchTiny(s, { onDemand: true, idleTtlSeconds: 2 });
    await events.waitFor(
      (e) => e.type === "gateway" && e.data.action === "idle-unload" && e.data.instance === "tiny",
      30_000,
      "idle unload",
    );
    await events.waitFor(isInstanceEvent("tiny", "stopped"), 30_000, "tiny stopped");

    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "EMPTY", maxRetries: 0 });
    const listed = await client.models.list();
    expect(listed.data.find((m) => m.id === "tiny")).toMatchObject({
      servepilot: { status: "stopped", onDemand: true },
    });

    const first = await fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 4 }),
    });
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("5");
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe("model_loading");

    const answer = await waitUntil(
      "the on-demand model to answer",
      async () => {
        const reply = await client.chat.completions
          .create({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 4 })
          .catch(() => null);
        return reply;
      },
      120_000,
      250,
    );
    expect(answer.usage?.completion_tokens).toBe(4);
    const instances = (await s.api("/api/instances")).body.instances as Array<{
      name: string;
      status: string;
    }>;
    expect(instances.filter((i) => i.status === "ready").map((i) => i.name)).toEqual(["tiny"]);
  });
});
