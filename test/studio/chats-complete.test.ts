/**
 * Chat completions end to end: a real studio launches the vLLM emulator (which answers tool calls
 * like vLLM with --enable-auto-tool-choice), POST /api/chats/:id/complete goes through the studio's
 * gateway, and the tools come from the calc MCP server (stdio, written with the SDK). Checked: the
 * event stream, the stored messages and their request ids, the generated title, usage, the tool round
 * trip with approval (approve, deny), tools off, and a client that disconnects.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gatewayRecorder } from "../../src/studio/modules/gateway.js";
import { complete, named, studioWithQwen } from "./chat-helpers.js";
import { cleanUp, type openStudio, QWEN, waitUntil } from "./lifecycle-helpers.js";

afterEach(cleanUp);

const CALC_SERVER = join(import.meta.dirname, "..", "fixtures", "mcp", "calc-server.mjs");

type Studio = Awaited<ReturnType<typeof openStudio>>;

async function registerCalc(s: Studio, approval: "always" | "never", timeoutMs = 30_000, env = {}) {
  const created = await s.api("/api/mcp/servers", {
    body: {
      name: "calc",
      transport: "stdio",
      command: [process.execPath, CALC_SERVER],
      approval,
      timeoutMs,
      env,
    },
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

describe("chat completions through the gateway", () => {
  it("streams a reply, stores it with its request id, names the chat and counts usage", async () => {
    const s = await studioWithQwen();
    const chat = (await s.api("/api/chats", { body: { model: QWEN, systemPrompt: "Be brief." } })).body;
    const run = await complete(s, chat.id, { content: "Say hello" });
    expect(run.status).toBe(200);
    expect(run.contentType).toContain("text/event-stream");
    const kinds = run.events.map((e) => e.event);
    expect(kinds).not.toContain("error");
    expect(kinds.at(-1)).toBe("done");
    const text = named(run.events, "delta")
      .map((d) => d.content)
      .join("");
    expect(text).toBe("Hello! This is the vLLM emulator answering your request with a short reply.");
    expect(named(run.events, "usage")[0]).toMatchObject({
      promptTokens: expect.any(Number),
      completionTokens: 13,
    });
    const [stored] = named(run.events, "message");
    expect(stored).toMatchObject({ role: "assistant", content: text, seq: 3 });
    expect(named(run.events, "title")[0].title).toBe(
      "Hello! This is the vLLM emulator answering your request with",
    );
    expect(named(run.events, "done")[0]).toMatchObject({
      sessionId: chat.id,
      toolRounds: 0,
      finishReason: "stop",
    });

    const read = await s.api(`/api/chats/${chat.id}`);
    expect(read.body.title).toBe("Hello! This is the vLLM emulator answering your request with");
    expect(read.body.messages.map((m: { role: string; seq: number }) => [m.seq, m.role])).toEqual([
      [1, "system"],
      [2, "user"],
      [3, "assistant"],
    ]);
    const assistant = read.body.messages[2];
    expect(assistant.requestId).toEqual(expect.any(String));

    await gatewayRecorder(s.ctx).flush();
    const rows = await s.ctx.db
      .selectFrom("requests")
      .selectAll()
      .where("chat_session_id", "=", chat.id)
      .execute();
    // the reply and the title
    expect(rows.length).toBe(2);
    expect(rows.map((r) => r.request_id)).toContain(assistant.requestId);
    const usage = await s.api(`/api/chats/${chat.id}/usage`);
    expect(usage.body.requests).toBe(2);
    expect(usage.body.completionTokens).toBe(26);
    expect(usage.body.messages).toEqual([
      expect.objectContaining({
        messageId: assistant.id,
        requestId: assistant.requestId,
        completionTokens: 13,
      }),
    ]);

    // a second turn keeps the title
    const again = await complete(s, chat.id, { content: "And again", maxTokens: 3 });
    expect(named(again.events, "title")).toEqual([]);
    expect(named(again.events, "done")[0].finishReason).toBe("length");
    expect((await s.api(`/api/chats/${chat.id}`)).body.messages).toHaveLength(5);

    // an unknown model: the gateway's 404 as an error event
    const unknown = await complete(s, chat.id, { model: "nobody/none", content: "hi" });
    expect(named(unknown.events, "error")[0]).toMatchObject({ code: "MODEL_NOT_FOUND" });
  });

  it("runs MCP tool calls after approval, reports a denial, and obeys tools: false", async () => {
    const s = await studioWithQwen();
    const pidFile = join(mkdtempSync(join(tmpdir(), "sp-chat-mcp-")), "calc.pid");
    await registerCalc(s, "always", 30_000, { CALC_PID_FILE: pidFile });
    const chat = (await s.api("/api/chats", { body: { model: QWEN } })).body;

    const approved = await complete(s, chat.id, { content: "What is 2 + 3?" }, async (e) => {
      if (e.event === "tool_call" && e.data.needsApproval) {
        const answer = await s.api(`/api/chats/${chat.id}/tool-calls/${e.data.id}`, {
          body: { approve: true },
        });
        expect(answer.status).toBe(200);
      }
    });
    const [call] = named(approved.events, "tool_call");
    expect(call).toMatchObject({
      server: "calc",
      name: "add",
      arguments: { a: 2, b: 3 },
      needsApproval: true,
    });
    expect(call.id).toMatch(/^chatcmpl-tool-[0-9a-f]+$/);
    expect(named(approved.events, "tool_result")).toEqual([{ id: call.id, content: "5", isError: false }]);
    const finalText = named(approved.events, "delta")
      .map((d) => d.content)
      .join("");
    expect(finalText).toBe("Tool result: 5");
    expect(named(approved.events, "done")[0]).toMatchObject({ toolRounds: 1, finishReason: "stop" });
    const messages = (await s.api(`/api/chats/${chat.id}`)).body.messages;
    expect(messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(messages[1].toolCalls).toEqual([
      { id: call.id, type: "function", function: { name: "calc__add", arguments: '{"a":2,"b":3}' } },
    ]);
    expect(messages[2]).toMatchObject({ role: "tool", toolCallId: call.id, content: "5" });
    expect(messages[3].content).toBe("Tool result: 5");
    // the stdio server ran for the turn only
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(() => process.kill(pid, 0)).toThrow();

    const denied = await complete(s, chat.id, { content: "Once more?" }, async (e) => {
      if (e.event === "tool_call" && e.data.needsApproval) {
        await s.api(`/api/chats/${chat.id}/tool-calls/${e.data.id}`, { body: { approve: false } });
      }
    });
    expect(named(denied.events, "tool_result")[0]).toMatchObject({ isError: true });
    expect(named(denied.events, "tool_result")[0].content).toContain("denied");
    const deniedText = named(denied.events, "delta")
      .map((d) => d.content)
      .join("");
    expect(deniedText).toContain("Tool result: The user denied");

    const noTools = await complete(s, chat.id, { content: "No tools now", tools: false });
    expect(named(noTools.events, "tool_call")).toEqual([]);
    expect(named(noTools.events, "done")[0]).toMatchObject({ toolRounds: 0 });

    // maxToolRounds 0: no tools offered
    const zero = await complete(s, chat.id, { content: "zero rounds", maxToolRounds: 0 });
    expect(named(zero.events, "tool_call")).toEqual([]);
  });

  it("runs calls directly for approval never, times out an unanswered approval, and aborts on disconnect", async () => {
    const s = await studioWithQwen();
    const id = await registerCalc(s, "never");
    const chat = (await s.api("/api/chats", { body: { model: QWEN, title: "Fixed" } })).body;
    const direct = await complete(s, chat.id, { content: "add" });
    expect(named(direct.events, "tool_call")[0]).toMatchObject({ needsApproval: false, name: "add" });
    expect(named(direct.events, "tool_result")[0]).toMatchObject({ content: "5", isError: false });
    // a chat with its own title keeps it
    expect(named(direct.events, "title")).toEqual([]);

    // an approval that never comes: bounded by the server's timeout
    // (the server's timeout also bounds starting it: long enough for a node process on a busy machine)
    await s.api(`/api/mcp/servers/${id}`, { method: "PATCH", body: { approval: "always", timeoutMs: 3000 } });
    const unanswered = await complete(s, chat.id, { content: "add again" });
    expect(named(unanswered.events, "warning")).toEqual([]);
    expect(named(unanswered.events, "tool_result")[0].content).toContain("No approval came within 3000 ms");
    expect(named(unanswered.events, "done")).toHaveLength(1);

    // a client that disconnects while a call awaits approval ends the turn
    await s.api(`/api/mcp/servers/${id}`, { method: "PATCH", body: { timeoutMs: 60_000 } });
    const controller = new AbortController();
    let pending: string | null = null;
    await complete(
      s,
      chat.id,
      { content: "add, then leave" },
      async (e) => {
        if (e.event === "tool_call") {
          pending = e.data.id;
          // one turn at a time per chat
          const second = await s.api(`/api/chats/${chat.id}/complete`, { body: { tools: false } });
          expect(second.status).toBe(409);
          expect(second.body.error.code).toBe("CONFLICT");
          controller.abort();
        }
      },
      controller.signal,
    );
    expect(pending).not.toBeNull();
    // the turn is over: its approval is gone and the chat can complete again
    await waitUntil("the aborted turn to end", async () => {
      const answer = await s.api(`/api/chats/${chat.id}/tool-calls/${pending}`, { body: { approve: true } });
      return answer.status === 404;
    });
    const after = await complete(s, chat.id, { tools: false });
    expect(after.status).toBe(200);
    expect(named(after.events, "done")).toHaveLength(1);
  });
});
