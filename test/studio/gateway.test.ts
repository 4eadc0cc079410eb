/**
 * The gateway with the official `openai` client against a real studio and the vLLM emulator (a real
 * process speaking vLLM's OpenAI API): routing by model, streamed and non-streamed chat, completions,
 * the models list, OpenAI-shaped errors, usage recorded per request (and the usage chunk the gateway
 * asked for hidden from a client that did not), and gateway keys.
 */
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { gatewayRecorder } from "../../src/studio/modules/gateway.js";
import { validRecipe } from "./catalog-helpers.js";
import { cleanUp, isInstanceEvent, openStudio, QWEN, waitUntil } from "./lifecycle-helpers.js";

afterEach(cleanUp);

async function studioWithQwen(options: Parameters<typeof openStudio>[0] = {}) {
  const s = await openStudio(options);
  const events = await s.events();
  const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 60 } });
  expect(launched.status).toBe(202);
  await events.waitFor(isInstanceEvent("qwen3-8b", "ready"), 60_000, "qwen3-8b ready");
  return s;
}

async function requestRows(s: Awaited<ReturnType<typeof openStudio>>) {
  await gatewayRecorder(s.ctx).flush();
  return s.ctx.db.selectFrom("requests").selectAll().orderBy("id").execute();
}

describe("gateway (/v1) with the openai client", () => {
  it("routes chat and completions by model, streams, lists models and records usage", async () => {
    const s = await studioWithQwen();
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "EMPTY", maxRetries: 0 });

    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain(QWEN);

    const chat = await client.chat.completions.create({
      model: QWEN,
      messages: [{ role: "user", content: "hello there" }],
      max_tokens: 16,
    });
    expect(chat.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(chat.usage?.completion_tokens).toBeGreaterThan(0);

    // streamed without include_usage: the gateway asks the engine for usage, and hides the chunk
    const stream = await client.chat.completions.create({
      model: QWEN,
      messages: [{ role: "user", content: "tell me more" }],
      max_tokens: 12,
      stream: true,
    });
    let text = "";
    let sawUsage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) sawUsage = true;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(sawUsage).toBe(false);

    // streamed with include_usage: the client gets the usage chunk
    const withUsage = await client.chat.completions.create({
      model: QWEN,
      messages: [{ role: "user", content: "once more" }],
      max_tokens: 10,
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamedUsage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of withUsage) if (chunk.usage) streamedUsage = chunk.usage;
    expect(streamedUsage?.completion_tokens).toBeGreaterThan(0);

    const completion = await client.completions.create({ model: QWEN, prompt: "Once upon", max_tokens: 8 });
    expect(completion.choices[0]?.text.length).toBeGreaterThan(0);

    const rows = await requestRows(s);
    expect(rows.map((r) => [r.endpoint, r.stream, r.status, r.instance])).toEqual([
      ["/v1/chat/completions", 0, 200, "qwen3-8b"],
      ["/v1/chat/completions", 1, 200, "qwen3-8b"],
      ["/v1/chat/completions", 1, 200, "qwen3-8b"],
      ["/v1/completions", 0, 200, "qwen3-8b"],
    ]);
    expect(rows[0]).toMatchObject({
      prompt_tokens: chat.usage?.prompt_tokens,
      completion_tokens: chat.usage?.completion_tokens,
      model: QWEN,
    });
    expect(rows[2]).toMatchObject({
      prompt_tokens: streamedUsage?.prompt_tokens,
      completion_tokens: streamedUsage?.completion_tokens,
    });
    // the hidden usage chunk was still recorded
    expect(rows[1]?.completion_tokens).toBeGreaterThan(0);
    expect(rows[1]?.ttft_ms).toBeGreaterThan(0);
    expect(rows[3]).toMatchObject({ prompt_tokens: completion.usage?.prompt_tokens });

    const prometheus = (await s.api("/metrics")).body as string;
    expect(prometheus).toContain(
      'servepilot_gateway_requests_total{instance="qwen3-8b",endpoint="/v1/chat/completions",status="2xx"} 3',
    );
    const completionTokens = rows.reduce((sum, r) => sum + (r.completion_tokens ?? 0), 0);
    expect(prometheus).toContain(
      `servepilot_gateway_tokens_total{instance="qwen3-8b",kind="completion"} ${completionTokens}`,
    );
  });

  it("answers unknown and stopped models with OpenAI errors, and records them", async () => {
    const s = await studioWithQwen();
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "EMPTY", maxRetries: 0 });
    const unknown = await client.chat.completions
      .create({ model: "no/such-model", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");

    const missing = await fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [] }),
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { param: "model", type: "invalid_request_error" } });

    const notJson = await fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");

    const noRoute = await fetch(`${s.url}/v1/nothing-here`);
    expect(noRoute.status).toBe(404);
    expect(((await noRoute.json()) as { error: { code: string } }).error.code).toBe("not_found");

    expect((await s.api("/api/instances/qwen3-8b/stop", { body: {} })).status).toBe(200);
    const stopped = await client.chat.completions
      .create({ model: QWEN, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(OpenAI.NotFoundError);
    expect((stopped as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_running");

    const rows = await requestRows(s);
    expect(rows.map((r) => [r.model, r.status])).toEqual([
      ["no/such-model", 404],
      ["", 400],
      [QWEN, 404],
    ]);
  });

  it("gateway keys: /v1 only, counted per key, refused once revoked; the admin key manages them", async () => {
    const adminKey = "admin-key-0123456789abcdef";
    const s = await studioWithQwen({ apiKey: adminKey });
    const created = await s.api("/api/keys", { body: { name: "ci" } });
    expect(created.status).toBe(201);
    const secret = created.body.key as string;
    expect(secret).toMatch(/^sp-/);
    const listed = await s.api("/api/keys");
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: secret, maxRetries: 0 });
    const chat = await client.chat.completions.create({
      model: QWEN,
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 5,
    });
    expect(chat.choices.length).toBe(1);

    // a gateway key cannot reach /api
    const api = await fetch(`${s.url}/api/instances`, { headers: { authorization: `Bearer ${secret}` } });
    expect(api.status).toBe(403);
    // no key, a wrong key: 401 in OpenAI's shape on /v1
    const anonymous = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
    expect(await anonymous.models.list().catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);

    await gatewayRecorder(s.ctx).flush();
    const usage = await s.api(`/api/keys/${created.body.id}/usage`);
    expect(usage.body).toMatchObject({
      requests: 1,
      succeeded: 1,
      completionTokens: chat.usage?.completion_tokens,
      promptTokens: chat.usage?.prompt_tokens,
    });

    expect((await s.api(`/api/keys/${created.body.id}`, { method: "DELETE" })).status).toBe(200);
    const revoked = await client.models.list().catch((e: unknown) => e);
    expect(revoked).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((revoked as Error).message).toContain("revoked");
  });

  it("per-key rate limit and token quota answer 429 in OpenAI's shape", async () => {
    const s = await studioWithQwen();
    const limited = (await s.api("/api/keys", { body: { name: "slow", rateLimitPerMinute: 2 } })).body.key;
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: limited, maxRetries: 0 });
    await client.models.list();
    await client.models.list();
    const third = await client.models.list().catch((e: unknown) => e);
    expect(third).toBeInstanceOf(OpenAI.RateLimitError);
    expect((third as InstanceType<typeof OpenAI.RateLimitError>).headers?.get("retry-after")).toMatch(
      /^\d+$/,
    );

    const quota = (await s.api("/api/keys", { body: { name: "small", tokenQuota: 5 } })).body.key;
    const quoted = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: quota, maxRetries: 0 });
    await quoted.chat.completions.create({
      model: QWEN,
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 8,
    });
    await gatewayRecorder(s.ctx).flush();
    const over = await quoted.chat.completions
      .create({ model: QWEN, messages: [{ role: "user", content: "hi" }], max_tokens: 8 })
      .catch((e: unknown) => e);
    expect(over).toBeInstanceOf(OpenAI.RateLimitError);
    expect((over as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("insufficient_quota");
  });

  it("a stored recipe marked onDemand is listed, started by the first request (503 + Retry-After), then served", async () => {
    const s = await openStudio();
    const recipe = validRecipe({ id: "qwen-on-demand", onDemand: true, autoRestart: false, extraArgs: [] });
    expect((await s.api("/api/recipes", { body: recipe })).status).toBe(201);
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "EMPTY", maxRetries: 0 });
    const listed = await client.models.list();
    expect(listed.data).toEqual([
      expect.objectContaining({
        id: QWEN,
        servepilot: expect.objectContaining({ status: "stopped", onDemand: true, recipe: "qwen-on-demand" }),
      }),
    ]);
    const first = await client.chat.completions
      .create({ model: QWEN, messages: [{ role: "user", content: "hi" }], max_tokens: 3 })
      .catch((e: unknown) => e);
    expect(first).toBeInstanceOf(OpenAI.InternalServerError);
    expect((first as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((first as InstanceType<typeof OpenAI.APIError>).code).toBe("model_loading");
    const answer = await waitUntil(
      "the on-demand recipe to serve",
      () =>
        client.chat.completions
          .create({ model: QWEN, messages: [{ role: "user", content: "hi" }], max_tokens: 3 })
          .catch(() => null),
      60_000,
      200,
    );
    expect(answer.choices.length).toBe(1);
    const instances = (await s.api("/api/instances")).body.instances;
    expect(instances.map((i: { recipeId: string; status: string }) => [i.recipeId, i.status])).toEqual([
      ["qwen-on-demand", "ready"],
    ]);
    // one launch, however many requests arrived while it loaded
    const launches = (await s.api("/metrics")).body as string;
    expect(launches).toContain('servepilot_studio_launches_total{result="ready"} 1');
  });
});
