/**
 * forward() between a real HTTP client and a loopback engine stub (a real HTTP server that answers
 * what each test scripts): think blocks split across chunks become reasoning_content, the usage chunk
 * the gateway asked for is read and dropped, an engine that dies mid-stream gives the client an error
 * event and a terminated stream, an engine that never answers times out with 504.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type ForwardOutcome, forward } from "../../src/studio/gateway/proxy.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function chunk(delta: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", model: "m", choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
}

/** A gateway-like front: forwards every request to the stub and reports the outcome. */
async function front(
  enginePort: number,
  settings: {
    normalizeReasoning?: boolean;
    injectedUsage?: boolean;
    timeoutMs?: number;
    body?: Record<string, unknown>;
  },
) {
  let outcome: Promise<ForwardOutcome> = Promise.reject(new Error("no request"));
  outcome.catch(() => undefined);
  const port = await listen((_req, res) => {
    outcome = forward(
      {
        target: {
          instance: "stub",
          servedModelName: "m",
          model: "m",
          engine: "vllm",
          host: "127.0.0.1",
          port: enginePort,
        },
        path: "/v1/chat/completions",
        body: settings.body ?? { model: "m", stream: true },
        injectedUsage: settings.injectedUsage ?? false,
        normalizeReasoning: settings.normalizeReasoning ?? false,
        timeoutMs: settings.timeoutMs ?? 10_000,
        requestId: "req-1",
        replyHeaders: { "x-request-id": "req-1" },
      },
      res,
    );
  });
  const response = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" });
  const text = await response.text();
  return { response, text, outcome: await outcome };
}

function dataOf(text: string) {
  return text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6));
}

describe("gateway forward()", () => {
  it("moves <think> split across chunks into reasoning_content and drops the usage chunk it asked for", async () => {
    const engine = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
      const parts = [
        chunk({ role: "assistant", content: "" }),
        chunk({ content: "<th" }),
        chunk({ content: "ink>weigh" }),
        chunk({ content: "ing</thi" }),
        chunk({ content: "nk>Answer" }),
        `data: ${JSON.stringify({ id: "c1", choices: [], usage: { prompt_tokens: 7, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 3 } } })}\n\n`,
        "data: [DONE]\n\n",
      ];
      // the bytes arrive cut at odd places too
      const all = parts.join("");
      let at = 0;
      const next = () => {
        if (at >= all.length) return res.end();
        res.write(all.slice(at, at + 37));
        at += 37;
        setImmediate(next);
      };
      next();
    });
    const { response, text, outcome } = await front(engine, {
      normalizeReasoning: true,
      injectedUsage: true,
    });
    expect(response.headers.get("x-request-id")).toBe("req-1");
    const data = dataOf(text);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    const reasoning = chunks.map((c) => c.choices[0]?.delta?.reasoning_content ?? "").join("");
    expect({ content, reasoning }).toEqual({ content: "Answer", reasoning: "weighing" });
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(outcome).toMatchObject({
      status: 200,
      error: null,
      usage: { promptTokens: 7, completionTokens: 5, cachedTokens: 3 },
    });
    expect(outcome.ttftMs).toBeGreaterThan(0);
  });

  it("passes a stream through byte for byte when no feature needs to touch it", async () => {
    const stream = `${chunk({ role: "assistant", content: "" })}${chunk({ content: "<think>x</think>y" })}data: [DONE]\n\n`;
    const engine = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(stream);
    });
    const { text } = await front(engine, {});
    expect(text).toBe(stream);
  });

  it("ends the client's stream with an error event when the engine dies mid-stream", async () => {
    const engine = await listen((req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunk({ content: "partial" }));
      setTimeout(() => req.socket.destroy(), 20);
    });
    const { text, outcome } = await front(engine, {});
    const data = dataOf(text);
    expect(JSON.parse(data[0] as string).choices[0].delta.content).toBe("partial");
    expect(JSON.parse(data[1] as string).error).toMatchObject({
      type: "server_error",
      code: "upstream_error",
    });
    expect(data.at(-1)).toBe("[DONE]");
    expect(outcome.status).toBe(502);
    expect(outcome.error).toContain("closed the stream before it ended");
  });

  it("answers 504 when the engine accepts the request but never answers, and 502 when nothing listens", async () => {
    const engine = await listen(() => {
      // never answers
    });
    const hung = await front(engine, { timeoutMs: 300, body: { model: "m" } });
    expect(hung.response.status).toBe(504);
    expect(JSON.parse(hung.text).error).toMatchObject({ type: "timeout", code: "upstream_timeout" });

    const closed = await listen(() => undefined);
    const server = servers.pop() as Server;
    await new Promise((resolve) => server.close(resolve));
    const refused = await front(closed, { body: { model: "m" } });
    expect(refused.response.status).toBe(502);
    expect(JSON.parse(refused.text).error.message).toContain("unreachable");
    expect(refused.outcome.status).toBe(502);
  });

  it("normalises a non-streamed message and reads its usage; engine errors pass through with their status", async () => {
    let call = 0;
    const engine = await listen((_req, res) => {
      call += 1;
      if (call === 1) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            choices: [{ index: 0, message: { role: "assistant", content: "<think>hmm</think>Yes" } }],
            usage: { prompt_tokens: 4, completion_tokens: 2 },
          }),
        );
      } else {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            object: "error",
            message: "max_tokens is too large",
            type: "BadRequestError",
            code: 400,
          }),
        );
      }
    });
    const ok = await front(engine, { normalizeReasoning: true, body: { model: "m" } });
    expect(JSON.parse(ok.text).choices[0].message).toEqual({
      role: "assistant",
      content: "Yes",
      reasoning_content: "hmm",
    });
    expect(ok.outcome.usage).toEqual({ promptTokens: 4, completionTokens: 2, cachedTokens: null });
    const bad = await front(engine, { body: { model: "m" } });
    expect(bad.response.status).toBe(400);
    expect(JSON.parse(bad.text).message).toBe("max_tokens is too large");
    expect(bad.outcome).toMatchObject({ status: 400, error: "max_tokens is too large" });
  });
});
