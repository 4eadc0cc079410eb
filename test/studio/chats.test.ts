/**
 * /api/chats over real HTTP against a real studio (real SQLite): sessions and messages CRUD, seq
 * order under concurrent appends, forks, export (Markdown and JSON), token usage from the gateway's
 * request rows, and the 404 / 400 answers that name the field at fault.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cleanTitle, streamCompletion, UpstreamError } from "../../src/studio/chats/upstream.js";
import type { StudioContext } from "../../src/studio/context.js";
import { startTestStudio, type TestStudio } from "./studio-harness.js";

const open: TestStudio[] = [];
async function studio(options: Parameters<typeof startTestStudio>[0] = {}) {
  const s = await startTestStudio(options);
  open.push(s);
  return s;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

function fieldsOf(body: { error: { details: { fields: Array<{ field: string }> } } }): string[] {
  return body.error.details.fields.map((f) => f.field);
}

async function newChat(s: TestStudio, body: Record<string, unknown> = {}) {
  const created = await s.api("/api/chats", { body });
  expect(created.status).toBe(201);
  return created.body as { id: string; title: string };
}

async function say(s: TestStudio, chat: string, role: string, content: string, extra = {}) {
  const answer = await s.api(`/api/chats/${chat}/messages`, { body: { role, content, ...extra } });
  expect(answer.status).toBe(201);
  return answer.body as { id: string; seq: number };
}

describe("studio chats: sessions and messages", () => {
  it("creates, lists, reads, renames and deletes chats", async () => {
    const s = await studio();
    const first = await s.api("/api/chats", {
      body: { title: "Planning", model: "Qwen/Qwen3-8B", systemPrompt: "Be brief." },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      title: "Planning",
      model: "Qwen/Qwen3-8B",
      forkedFromSessionId: null,
      messages: [{ seq: 1, role: "system", content: "Be brief." }],
    });
    const untitled = await newChat(s);
    expect(untitled.title).toBe("New chat");
    const empty = await s.api("/api/chats", { method: "POST" });
    expect(empty.status).toBe(201);

    await say(s, first.body.id, "user", "hello");
    const list = await s.api("/api/chats");
    expect(list.status).toBe(200);
    // most recently updated first: the chat just written to leads
    expect(list.body.chats[0]).toMatchObject({
      id: first.body.id,
      messageCount: 2,
      usage: { requests: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0 },
    });
    expect(list.body.chats).toHaveLength(3);

    const renamed = await s.api(`/api/chats/${untitled.id}`, {
      method: "PATCH",
      body: { title: "Renamed", model: "meta-llama/Llama-3.1-8B-Instruct" },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ title: "Renamed", model: "meta-llama/Llama-3.1-8B-Instruct" });
    expect((await s.api("/api/chats")).body.chats[0].id).toBe(untitled.id);

    const one = await s.api(`/api/chats/${first.body.id}`);
    expect(one.body.messages.map((m: { role: string }) => m.role)).toEqual(["system", "user"]);

    expect((await s.api(`/api/chats/${first.body.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await s.api(`/api/chats/${first.body.id}`)).status).toBe(404);
    expect((await s.api("/api/chats")).body.chats).toHaveLength(2);
  });

  it("appends, edits and deletes messages (seq: the last one + 1)", async () => {
    const s = await studio();
    const chat = await newChat(s);
    const toolCalls = [
      { id: "call-1", type: "function", function: { name: "calc__add", arguments: '{"a":1}' } },
    ];
    const a = await say(s, chat.id, "user", "add 1");
    const b = await say(s, chat.id, "assistant", "", { toolCalls, reasoningContent: "I should add." });
    const c = await say(s, chat.id, "tool", "1", { toolCallId: "call-1" });
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
    const read = await s.api(`/api/chats/${chat.id}`);
    expect(read.body.messages[1]).toMatchObject({
      toolCalls,
      reasoningContent: "I should add.",
      role: "assistant",
    });
    expect(read.body.messages[2]).toMatchObject({ toolCallId: "call-1", role: "tool" });

    const edited = await s.api(`/api/chats/${chat.id}/messages/${a.id}`, {
      method: "PATCH",
      body: { content: "add one" },
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id: a.id, seq: 1, content: "add one" });

    expect((await s.api(`/api/chats/${chat.id}/messages/${c.id}`, { method: "DELETE" })).status).toBe(200);
    const d = await say(s, chat.id, "user", "again");
    expect(d.seq).toBe(3);
    const seqs = (await s.api(`/api/chats/${chat.id}`)).body.messages.map((m: { seq: number }) => m.seq);
    expect(seqs).toEqual([1, 2, 3]);
  });

  it("keeps 50 concurrent appends in distinct, gap-free seq order", async () => {
    const s = await studio();
    const chat = await newChat(s, { systemPrompt: "system" });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        s.api(`/api/chats/${chat.id}/messages`, { body: { role: "user", content: `message ${i}` } }),
      ),
    );
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const seqs = answers.map((a) => a.body.seq as number).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    const read = await s.api(`/api/chats/${chat.id}`);
    expect(read.body.messages.map((m: { seq: number }) => m.seq)).toEqual(
      Array.from({ length: 51 }, (_, i) => i + 1),
    );
    // each message keeps the seq it was given
    const bySeq = new Map(read.body.messages.map((m: { seq: number; id: string }) => [m.seq, m.id]));
    for (const a of answers) expect(bySeq.get(a.body.seq)).toBe(a.body.id);
    expect((await s.api("/api/chats")).body.chats[0].messageCount).toBe(51);
  });

  it("forks a chat at a message", async () => {
    const s = await studio();
    const chat = await newChat(s, { title: "Origin", model: "Qwen/Qwen3-8B" });
    const m1 = await say(s, chat.id, "user", "one");
    const m2 = await say(s, chat.id, "assistant", "two");
    await say(s, chat.id, "user", "three");
    const fork = await s.api(`/api/chats/${chat.id}/fork`, { body: { messageId: m2.id } });
    expect(fork.status).toBe(201);
    expect(fork.body).toMatchObject({
      title: "Origin (fork)",
      model: "Qwen/Qwen3-8B",
      forkedFromSessionId: chat.id,
      forkedFromMessageId: m2.id,
    });
    expect(fork.body.id).not.toBe(chat.id);
    expect(fork.body.messages.map((m: { content: string; seq: number }) => [m.seq, m.content])).toEqual([
      [1, "one"],
      [2, "two"],
    ]);
    expect(fork.body.messages.map((m: { id: string }) => m.id)).not.toContain(m1.id);
    // the fork goes on by itself; the origin is unchanged
    expect((await say(s, fork.body.id, "user", "four")).seq).toBe(3);
    expect((await s.api(`/api/chats/${chat.id}`)).body.messages).toHaveLength(3);

    const other = await newChat(s);
    const foreign = await s.api(`/api/chats/${other.id}/fork`, { body: { messageId: m1.id } });
    expect(foreign.status).toBe(404);
  });

  it("exports Markdown and JSON as attachments named after the id", async () => {
    const s = await studio();
    const chat = await newChat(s, { title: '../../etc/passwd"; evil', systemPrompt: "Be brief." });
    await say(s, chat.id, "user", "What is 2+2?");
    await say(s, chat.id, "assistant", "", {
      toolCalls: [
        { id: "c1", type: "function", function: { name: "calc__add", arguments: '{"a":2,"b":2}' } },
      ],
    });
    await say(s, chat.id, "tool", "4", { toolCallId: "c1" });
    await say(s, chat.id, "assistant", "It is **4**.", { reasoningContent: "2+2=4" });

    const md = await fetch(`${s.url}/api/chats/${chat.id}/export?format=markdown`);
    expect(md.status).toBe(200);
    expect(md.headers.get("content-type")).toContain("text/markdown");
    expect(md.headers.get("content-disposition")).toBe(`attachment; filename="chat-${chat.id}.md"`);
    const text = await md.text();
    expect(text).toContain('# ../../etc/passwd"; evil');
    expect(text).toContain("## System\n\nBe brief.");
    expect(text).toContain("## User\n\nWhat is 2+2?");
    expect(text).toContain("Tool call `calc__add` (c1)");
    expect(text).toContain("## Tool (c1)");
    expect(text).toContain("It is **4**.");
    expect(text).toContain("Reasoning");
    expect(text.indexOf("What is 2+2?")).toBeLessThan(text.indexOf("It is **4**."));

    const json = await fetch(`${s.url}/api/chats/${chat.id}/export?format=json`);
    expect(json.headers.get("content-disposition")).toBe(`attachment; filename="chat-${chat.id}.json"`);
    // biome-ignore lint/suspicious/noExplicitAny: tests navigate response bodies freely
    const doc: any = await json.json();
    expect(doc.session).toMatchObject({ id: chat.id, title: '../../etc/passwd"; evil' });
    expect(doc.messages.map((m: { role: string }) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
    ]);

    const defaults = await fetch(`${s.url}/api/chats/${chat.id}/export`);
    expect(defaults.headers.get("content-disposition")).toContain(".md");
    const bad = await s.api(`/api/chats/${chat.id}/export?format=pdf`);
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)[0]).toContain("format");
  });

  it("sums token usage over the gateway's request rows, in total and per message", async () => {
    const s = await studio();
    const chat = await newChat(s);
    const other = await newChat(s);
    const row = (
      requestId: string,
      session: string | null,
      prompt: number,
      completion: number,
      cached: number | null,
    ) => ({
      request_id: requestId,
      at: new Date().toISOString(),
      api_key_id: null,
      model: "Qwen/Qwen3-8B",
      instance: "qwen3-8b",
      endpoint: "chat.completions",
      stream: 1,
      status: 200,
      error: null,
      prompt_tokens: prompt,
      completion_tokens: completion,
      cached_tokens: cached,
      ttft_ms: 12,
      duration_ms: 100,
      chat_session_id: session,
    });
    await s.ctx.db
      .insertInto("requests")
      .values([
        row("r-1", chat.id, 100, 20, 0),
        row("r-2", chat.id, 150, 30, 96),
        row("r-3", chat.id, 10, 5, null),
        row("r-4", other.id, 1000, 1000, 1000),
        row("r-5", null, 1000, 1000, 1000),
      ])
      .execute();
    await say(s, chat.id, "user", "hi");
    await s.api(`/api/chats/${chat.id}/messages`, { body: { role: "assistant", content: "a" } });
    // a message linked to its request (as completions store it)
    await s.ctx.db
      .updateTable("chat_messages")
      .set({ request_id: "r-2" })
      .where("session_id", "=", chat.id)
      .where("seq", "=", 2)
      .execute();

    const usage = await s.api(`/api/chats/${chat.id}/usage`);
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({
      sessionId: chat.id,
      requests: 3,
      promptTokens: 260,
      completionTokens: 55,
      cachedTokens: 96,
      totalTokens: 315,
    });
    expect(usage.body.messages).toEqual([
      expect.objectContaining({
        seq: 2,
        role: "assistant",
        requestId: "r-2",
        promptTokens: 150,
        completionTokens: 30,
        cachedTokens: 96,
      }),
    ]);
    const listed = (await s.api("/api/chats")).body.chats.find((c: { id: string }) => c.id === chat.id);
    expect(listed.usage).toEqual({ requests: 3, promptTokens: 260, completionTokens: 55, cachedTokens: 96 });
    const empty = await s.api(`/api/chats/${(await newChat(s)).id}/usage`);
    expect(empty.body).toMatchObject({ requests: 0, promptTokens: 0, totalTokens: 0, messages: [] });
  });

  it("answers 404 for unknown chats and messages, and 400 naming the field", async () => {
    const s = await studio();
    const missing = randomUUID();
    for (const [path, method, body] of [
      [`/api/chats/${missing}`, "GET", undefined],
      [`/api/chats/${missing}`, "PATCH", { title: "x" }],
      [`/api/chats/${missing}`, "DELETE", undefined],
      [`/api/chats/${missing}/messages`, "POST", { role: "user", content: "x" }],
      [`/api/chats/${missing}/usage`, "GET", undefined],
      [`/api/chats/${missing}/export`, "GET", undefined],
      [`/api/chats/${missing}/fork`, "POST", { messageId: "m" }],
      [`/api/chats/${missing}/complete`, "POST", { content: "x", model: "m" }],
    ] as const) {
      const answer = await s.api(path, { method, ...(body ? { body } : {}) });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.error.code).toBe("NOT_FOUND");
    }
    const chat = await newChat(s);
    const noMessage = await s.api(`/api/chats/${chat.id}/messages/${missing}`, {
      method: "PATCH",
      body: { content: "x" },
    });
    expect(noMessage.status).toBe(404);
    expect((await s.api(`/api/chats/${chat.id}/messages/${missing}`, { method: "DELETE" })).status).toBe(404);
    expect((await s.api(`/api/chats/${chat.id}/fork`, { body: { messageId: missing } })).status).toBe(404);
    expect((await s.api(`/api/chats/${chat.id}/tool-calls/call-x`, { body: { approve: true } })).status).toBe(
      404,
    );

    const cases: Array<[string, unknown, string]> = [
      [`/api/chats/${chat.id}/messages`, { role: "robot", content: "x" }, "body.role"],
      [`/api/chats/${chat.id}/messages`, { role: "user" }, "body.content"],
      [`/api/chats/${chat.id}/messages`, { role: "tool", content: "x" }, "body.toolCallId"],
      [
        `/api/chats/${chat.id}/messages`,
        {
          role: "user",
          content: "x",
          toolCalls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }],
        },
        "body.toolCalls",
      ],
      [`/api/chats/${chat.id}/messages`, { role: "user", content: "x", extra: 1 }, "body"],
      ["/api/chats", { title: 5 }, "body.title"],
      [`/api/chats/${chat.id}/fork`, {}, "body.messageId"],
      [`/api/chats/${chat.id}/complete`, { maxToolRounds: 11 }, "body.maxToolRounds"],
      [`/api/chats/${chat.id}/complete`, { temperature: -1 }, "body.temperature"],
      [`/api/chats/${chat.id}/complete`, { content: "hi" }, "body.model"],
      [`/api/chats/${chat.id}/tool-calls/c`, { approve: "yes" }, "body.approve"],
    ];
    for (const [path, body, field] of cases) {
      const answer = await s.api(path, { body });
      expect(answer.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(fieldsOf(answer.body).join(" "), JSON.stringify(body)).toContain(field);
    }
    const patchBad = await s.api(`/api/chats/${chat.id}`, { method: "PATCH", body: { title: ["x"] } });
    expect(patchBad.status).toBe(400);
    expect(fieldsOf(patchBad.body)).toContain("body.title");
  });
});

describe("chat titles", () => {
  it("cleans a model's answer into a short one-line title", () => {
    expect(cleanTitle('<think>The user wants a title.</think>\n\n"Adding Two Numbers"')).toBe(
      "Adding Two Numbers",
    );
    expect(cleanTitle("Title: **GPU memory planning**\nmore text")).toBe("GPU memory planning");
    expect(cleanTitle("<think>never closed")).toBe("");
    const long = cleanTitle("Hello! This is the vLLM emulator answering your request with a short reply.");
    expect(long.length).toBeLessThanOrEqual(60);
    expect(long).toBe("Hello! This is the vLLM emulator answering your request with");
  });
});

describe("reading the gateway's stream", () => {
  async function fakeGateway(status: number, chunks: string[], headers: Record<string, string> = {}) {
    const seen: Array<{ headers: Record<string, unknown>; body: Record<string, unknown> }> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        seen.push({ headers: req.headers, body: JSON.parse(body) });
        res.writeHead(status, {
          "content-type": status === 200 ? "text/event-stream" : "application/json",
          ...headers,
        });
        for (const chunk of chunks) res.write(chunk);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const ctx = {
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      options: { apiKey: "admin-key-0123456789abcdef" },
    } as unknown as StudioContext;
    return { ctx, seen, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

  it("merges reasoning, content and split tool-call deltas, and reads usage and the request id", async () => {
    const gateway = await fakeGateway(
      200,
      [
        data({ choices: [{ index: 0, delta: { role: "assistant", reasoning_content: "Let me " } }] }),
        data({ choices: [{ index: 0, delta: { reasoning_content: "think." } }] }),
        // an event split across writes, with CRLF line ends
        'data: {"choices":[{"index":0,"delta":{"content":"Sum"',
        "}}]}\r\n\r\n",
        data({
          choices: [
            {
              index: 0,
              delta: {
                tool_calls: [
                  {
                    index: 0,
                    id: "chatcmpl-tool-1",
                    type: "function",
                    function: { name: "calc__add", arguments: '{"a":' },
                  },
                ],
              },
            },
          ],
        }),
        data({
          choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: "1}" } }] } }],
        }),
        data({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }),
        data({
          choices: [],
          usage: { prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 8 } },
        }),
        "data: [DONE]\n\n",
      ],
      { "x-request-id": "req-from-gateway" },
    );
    try {
      const content: string[] = [];
      const reasoning: string[] = [];
      const reply = await streamCompletion(
        gateway.ctx,
        "chat-1",
        { model: "m", messages: [] },
        { onContent: (t) => content.push(t), onReasoning: (t) => reasoning.push(t) },
        new AbortController().signal,
      );
      expect(reply).toEqual({
        content: "Sum",
        reasoning: "Let me think.",
        toolCalls: [
          { id: "chatcmpl-tool-1", type: "function", function: { name: "calc__add", arguments: '{"a":1}' } },
        ],
        finishReason: "tool_calls",
        usage: { promptTokens: 10, completionTokens: 5, cachedTokens: 8 },
        requestId: "req-from-gateway",
      });
      expect(content).toEqual(["Sum"]);
      expect(reasoning).toEqual(["Let me ", "think."]);
      const sent = gateway.seen[0];
      expect(sent?.headers["x-servepilot-chat-session"]).toBe("chat-1");
      expect(sent?.headers.authorization).toBe("Bearer admin-key-0123456789abcdef");
      expect(sent?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    } finally {
      await gateway.close();
    }
  });

  it("turns an error answer into an UpstreamError with the gateway's message", async () => {
    const gateway = await fakeGateway(404, [
      JSON.stringify({ error: { message: "no model x", type: "NotFound" } }),
    ]);
    try {
      const failure = await streamCompletion(
        gateway.ctx,
        "chat-1",
        { model: "x", messages: [] },
        { onContent: () => {}, onReasoning: () => {} },
        new AbortController().signal,
      ).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(UpstreamError);
      expect((failure as UpstreamError).code).toBe("MODEL_NOT_FOUND");
      expect((failure as UpstreamError).message).toContain("no model x");
    } finally {
      await gateway.close();
    }
  });
});
