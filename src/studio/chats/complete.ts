/**
 * POST /api/chats/:id/complete: runs one turn of a chat through the studio's gateway and streams it
 * to the client as server-sent events of its own (`delta`, `reasoning`, `tool_call`, `tool_result`,
 * `message`, `usage`, `title`, `done`, `error`), storing each message as it is complete.
 *
 * With tools on, the tools of every enabled MCP server are offered (named `<server>__<tool>`); the
 * model's tool calls run through MCP (after the user's approval for servers that ask for it), their
 * results are appended as tool messages and the model is called again, up to maxToolRounds. The MCP
 * servers are connected for the turn and closed after it. A client that disconnects aborts it all.
 */
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { z } from "zod";
import { ServepilotError } from "../../core/errors.js";
import type { StudioContext } from "../context.js";
import { McpSession, type McpTool } from "../mcp/client.js";
import { listEnabledServers, type McpServer } from "../mcp/servers.js";
import {
  type DecodedImage,
  decodeImages,
  IMAGE_REQUEST_BUDGET,
  ImagesField,
  imageDataUrl,
  imageDataUrlLength,
} from "./images.js";
import {
  appendMessage,
  type ChatMessage,
  type ChatSession,
  DEFAULT_TITLE,
  getSession,
  listMessages,
  sessionImageData,
  type ToolCall,
  updateSession,
} from "./store.js";
import { cleanTitle, plainCompletion, streamCompletion, UpstreamError } from "./upstream.js";

export const MAX_TOOL_ROUNDS = 10;

export const CompleteBody = z
  .object({
    model: z.string().min(1).max(300).optional().describe("model to use (default: the chat's model)"),
    content: z.string().max(1_000_000).optional().describe("a user message appended before completing"),
    images: ImagesField.describe("images of that user message, for a vision-language model"),
    temperature: z.number().min(0).max(2).optional(),
    maxTokens: z.number().int().min(1).max(1_000_000).optional().describe("max_tokens per model call"),
    tools: z
      .boolean()
      .optional()
      .describe("offer the tools of the enabled MCP servers (default: true when any is enabled)"),
    maxToolRounds: z
      .number()
      .int()
      .min(0)
      .max(MAX_TOOL_ROUNDS)
      .default(5)
      .describe(`model calls that may run tools before a final answer (default 5, max ${MAX_TOOL_ROUNDS})`),
  })
  .strict();
export type CompleteBody = z.infer<typeof CompleteBody>;

export const ApprovalBody = z.object({ approve: z.boolean().describe("true: run the tool call") }).strict();

interface PendingApproval {
  sessionId: string;
  resolve(approved: boolean): void;
}

interface OfferedTool {
  session: McpSession;
  server: McpServer;
  tool: McpTool;
}

/** Tool-name separator: `<server>__<tool>`. */
const SEPARATOR = "__";

function approvalKey(sessionId: string, callId: string): string {
  return `${sessionId}\u0000${callId}`;
}

/** The chats' completions of one studio: the turns in flight and the tool calls awaiting approval. */
export class ChatCompletions {
  private readonly active = new Map<string, AbortController>();
  private readonly approvals = new Map<string, PendingApproval>();

  constructor(private readonly ctx: StudioContext) {}

  /** Answers a tool call awaiting approval; NOT_FOUND when none waits under that id. */
  decide(sessionId: string, callId: string, approve: boolean): void {
    const pending = this.approvals.get(approvalKey(sessionId, callId));
    if (!pending) {
      throw new ServepilotError("NOT_FOUND", `no tool call ${callId} awaits approval in chat ${sessionId}`, {
        hint: "a tool call can be approved while its completion waits for it (tool_call event with needsApproval)",
        details: { id: sessionId, callId },
      });
    }
    pending.resolve(approve);
  }

  /** Aborts every turn in flight (studio shutdown). */
  abortAll(): void {
    for (const controller of this.active.values()) controller.abort();
  }

  /**
   * Checks the request and prepares the turn (a given user message is stored first); throws (JSON
   * error) before any event is sent. The returned function streams the turn onto `res`.
   */
  async prepare(
    sessionId: string,
    body: CompleteBody,
  ): Promise<(res: ServerResponse, headers?: OutgoingHttpHeaders) => Promise<void>> {
    const session = await getSession(this.ctx.db, sessionId);
    if (this.active.has(sessionId)) {
      throw new ServepilotError("CONFLICT", `chat ${sessionId} is already completing`, {
        hint: "wait for its done event, or disconnect it",
        details: { id: sessionId },
      });
    }
    const model = body.model ?? session.model;
    if (!model) {
      throw new ServepilotError("INVALID_ARGUMENT", "body.model: the chat has no model; name one", {
        details: { fields: [{ field: "body.model", message: "the chat has no model; name one" }] },
      });
    }
    const controller = new AbortController();
    this.active.set(sessionId, controller);
    try {
      if (session.model === null) await updateSession(this.ctx.db, sessionId, { model });
      if (body.images && body.images.length > 0 && body.content === undefined) {
        throw new ServepilotError(
          "INVALID_ARGUMENT",
          "body.images: images come with a message (body.content)",
          {
            details: {
              fields: [{ field: "body.images", message: "images come with a message (body.content)" }],
            },
          },
        );
      }
      const images = decodeImages(body.images, "body.images");
      if (body.content !== undefined) {
        const message = await appendMessage(this.ctx.db, sessionId, {
          role: "user",
          content: body.content,
          images,
        });
        this.ctx.events.publish("chat", { sessionId, action: "message", messageId: message.id });
      }
      const messages = await listMessages(this.ctx.db, sessionId);
      if (!messages.some((m) => m.role !== "system")) {
        throw new ServepilotError("INVALID_ARGUMENT", "body.content: the chat has no message to answer", {
          details: { fields: [{ field: "body.content", message: "the chat has no message to answer" }] },
        });
      }
    } catch (error) {
      this.active.delete(sessionId);
      throw error;
    }
    return (res, headers = {}) => this.run(session, model, body, res, controller, headers);
  }

  private async run(
    session: ChatSession,
    model: string,
    body: CompleteBody,
    res: ServerResponse,
    controller: AbortController,
    headers: OutgoingHttpHeaders,
  ): Promise<void> {
    const { signal } = controller;
    const onClose = () => {
      if (!res.writableFinished) controller.abort();
    };
    res.on("close", onClose);
    res.writeHead(200, {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    const send = (event: string, data: unknown) => {
      if (!res.writableEnded && !res.destroyed)
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const sendMessage = (message: ChatMessage) => {
      send("message", message);
      this.ctx.events.publish("chat", { sessionId: session.id, action: "message", messageId: message.id });
    };

    const sessions: McpSession[] = [];
    let rounds = 0;
    let finishReason: string | null = null;
    try {
      const offered =
        body.tools === false ? new Map<string, OfferedTool>() : await this.openTools(sessions, send, signal);
      const tools = [...offered.entries()].map(([name, entry]) => ({
        type: "function",
        function: {
          name,
          description: entry.tool.description || `${entry.tool.name} (MCP server ${entry.server.name})`,
          parameters: entry.tool.inputSchema,
        },
      }));

      // the chat's image bytes, read once for the turn (its later rounds add no user message)
      let imageData: Map<string, DecodedImage> | null = null;
      for (;;) {
        const history = await listMessages(this.ctx.db, session.id);
        if (imageData === null && history.some((m) => m.images.length > 0)) {
          imageData = await sessionImageData(this.ctx.db, session.id);
        }
        const offerTools = tools.length > 0 && rounds < body.maxToolRounds;
        const reply = await streamCompletion(
          this.ctx,
          session.id,
          {
            model,
            messages: toOpenAiMessages(history, imageData ?? new Map()),
            ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
            ...(body.maxTokens !== undefined ? { max_tokens: body.maxTokens } : {}),
            ...(offerTools ? { tools } : {}),
          },
          {
            onContent: (text) => send("delta", { content: text }),
            onReasoning: (text) => send("reasoning", { content: text }),
          },
          signal,
        );
        finishReason = reply.finishReason;
        if (reply.usage) send("usage", { round: rounds, requestId: reply.requestId, ...reply.usage });
        const calls = reply.toolCalls.filter((c) => c.function.name !== "");
        const assistant = await appendMessage(this.ctx.db, session.id, {
          role: "assistant",
          content: reply.content,
          reasoningContent: reply.reasoning || null,
          toolCalls: calls.length > 0 ? calls : null,
          requestId: reply.requestId,
        });
        sendMessage(assistant);
        if (calls.length === 0) break;

        for (const call of calls) {
          const result = offerTools
            ? await this.runToolCall(session.id, call, offered, send, signal)
            : { content: "not run: the limit of tool rounds was reached", isError: true };
          if (!offerTools) send("tool_result", { id: call.id, ...result });
          const message = await appendMessage(this.ctx.db, session.id, {
            role: "tool",
            content: result.content,
            toolCallId: call.id,
          });
          sendMessage(message);
        }
        if (!offerTools) break;
        rounds += 1;
      }

      await this.maybeTitle(session, model, send, signal);
      send("done", { sessionId: session.id, toolRounds: rounds, finishReason });
    } catch (error) {
      if (!signal.aborted) {
        this.ctx.log.warn({ err: error, sessionId: session.id }, "chat completion failed");
        send("error", errorEvent(error));
      }
    } finally {
      this.active.delete(session.id);
      for (const [key, pending] of this.approvals) {
        if (pending.sessionId === session.id) {
          this.approvals.delete(key);
          pending.resolve(false);
        }
      }
      await Promise.all(sessions.map((s) => s.close()));
      res.off("close", onClose);
      if (!res.writableEnded) res.end();
    }
  }

  /** Connects the enabled MCP servers and lists their tools; a server that fails is left out. */
  private async openTools(
    sessions: McpSession[],
    send: (event: string, data: unknown) => void,
    signal: AbortSignal,
  ): Promise<Map<string, OfferedTool>> {
    const offered = new Map<string, OfferedTool>();
    const servers = await listEnabledServers(this.ctx.db);
    const opened = await Promise.all(
      servers.map(async (server) => {
        let session: McpSession | null = null;
        try {
          session = await McpSession.open(server, signal);
          sessions.push(session);
          return { server, session, tools: await session.listTools(signal) };
        } catch (error) {
          this.ctx.log.warn({ err: error, server: server.name }, "MCP server left out of a chat");
          send("warning", { server: server.name, message: (error as Error).message });
          return null;
        }
      }),
    );
    for (const entry of opened) {
      if (!entry) continue;
      for (const tool of entry.tools) {
        const name = `${entry.server.name}${SEPARATOR}${tool.name}`;
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) continue;
        offered.set(name, { session: entry.session, server: entry.server, tool });
      }
    }
    return offered;
  }

  private async runToolCall(
    sessionId: string,
    call: ToolCall,
    offered: Map<string, OfferedTool>,
    send: (event: string, data: unknown) => void,
    signal: AbortSignal,
  ): Promise<{ content: string; isError: boolean }> {
    const entry = offered.get(call.function.name);
    const separator = call.function.name.indexOf(SEPARATOR);
    const serverName = entry?.server.name ?? (separator > 0 ? call.function.name.slice(0, separator) : "");
    const toolName = entry?.tool.name ?? call.function.name.slice(separator > 0 ? separator + 2 : 0);
    let args: Record<string, unknown> | null = null;
    let argError: string | null = null;
    try {
      const parsed = call.function.arguments.trim() === "" ? {} : JSON.parse(call.function.arguments);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) args = parsed;
      else argError = "the arguments are not a JSON object";
    } catch {
      argError = "the arguments are not valid JSON";
    }
    const needsApproval = entry !== undefined && argError === null && entry.server.approval === "always";
    send("tool_call", {
      id: call.id,
      server: serverName,
      name: toolName,
      arguments: args ?? call.function.arguments,
      needsApproval,
    });

    let result: { content: string; isError: boolean };
    if (!entry) {
      result = { content: `unknown tool ${call.function.name}`, isError: true };
    } else if (argError !== null) {
      result = { content: `${call.function.name}: ${argError}`, isError: true };
    } else {
      const decision = needsApproval
        ? await this.awaitApproval(sessionId, call.id, entry.server.timeoutMs, signal)
        : "approved";
      if (decision === "aborted" || signal.aborted) throw new Error("the client disconnected");
      if (decision === "denied") {
        result = {
          content: `The user denied the call of ${call.function.name}; it was not run.`,
          isError: true,
        };
      } else if (decision === "timeout") {
        result = {
          content: `No approval came within ${entry.server.timeoutMs} ms; ${call.function.name} was not run.`,
          isError: true,
        };
      } else {
        result = await entry.session.callTool(entry.tool.name, args ?? {}, signal);
      }
    }
    send("tool_result", { id: call.id, ...result });
    return result;
  }

  private awaitApproval(
    sessionId: string,
    callId: string,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<"approved" | "denied" | "timeout" | "aborted"> {
    const key = approvalKey(sessionId, callId);
    return new Promise((resolve) => {
      const finish = (outcome: "approved" | "denied" | "timeout" | "aborted") => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.approvals.delete(key);
        resolve(outcome);
      };
      const onAbort = () => finish("aborted");
      const timer = setTimeout(() => finish("timeout"), timeoutMs);
      timer.unref();
      signal.addEventListener("abort", onAbort);
      this.approvals.set(key, { sessionId, resolve: (approved) => finish(approved ? "approved" : "denied") });
    });
  }

  /** After the first exchange of a chat with the default title, asks the model for a short one. */
  private async maybeTitle(
    session: ChatSession,
    model: string,
    send: (event: string, data: unknown) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const current = await getSession(this.ctx.db, session.id);
    if (current.title !== DEFAULT_TITLE && current.title.trim() !== "") return;
    const messages = await listMessages(this.ctx.db, session.id);
    const firstUser = messages.find((m) => m.role === "user");
    const firstAnswer = messages.find((m) => m.role === "assistant" && m.content.trim() !== "");
    if (!firstUser) return;
    try {
      const raw = await plainCompletion(
        this.ctx,
        session.id,
        {
          model,
          messages: [
            {
              role: "user",
              content: `Write a short title (at most six words) for this conversation. Answer with the title only, no quotes.\n\nUser: ${firstUser.content.slice(0, 2000)}${firstAnswer ? `\n\nAssistant: ${firstAnswer.content.slice(0, 2000)}` : ""}`,
            },
          ],
          max_tokens: 512,
          temperature: 0.3,
        },
        AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
      );
      const title = cleanTitle(raw);
      if (!title) return;
      const latest = await getSession(this.ctx.db, session.id);
      if (latest.title !== current.title) return;
      await updateSession(this.ctx.db, session.id, { title });
      send("title", { title });
      this.ctx.events.publish("chat", { sessionId: session.id, action: "title", title });
    } catch (error) {
      if (!signal.aborted)
        this.ctx.log.info({ err: error, sessionId: session.id }, "chat title not generated");
    }
  }
}

/**
 * The stored messages as OpenAI chat messages; a tool call left without its result (a turn that was
 * interrupted) gets one saying so, since models refuse a history with unanswered calls. Images are
 * sent newest first up to the request's image budget; an older one past it is named in a text part.
 */
export function toOpenAiMessages(
  messages: ChatMessage[],
  images: Map<string, DecodedImage>,
  budget = IMAGE_REQUEST_BUDGET,
): Array<Record<string, unknown>> {
  const sent = new Set<string>();
  let used = 0;
  for (const message of [...messages].reverse()) {
    for (const image of [...message.images].reverse()) {
      const data = images.get(image.id);
      if (!data) continue;
      used += imageDataUrlLength(data);
      if (used > budget) break;
      sent.add(image.id);
    }
    if (used > budget) break;
  }
  const answered = new Set(messages.filter((m) => m.role === "tool").map((m) => m.toolCallId));
  const out: Array<Record<string, unknown>> = [];
  for (const message of messages) {
    out.push(toOpenAi(message, images, sent, budget));
    for (const call of message.role === "assistant" ? (message.toolCalls ?? []) : []) {
      if (!answered.has(call.id)) {
        out.push({ role: "tool", tool_call_id: call.id, content: "not run: the turn was interrupted" });
      }
    }
  }
  return out;
}

/** A stored message as OpenAI chat messages take it, with the images in `sent` (of the `budget`). */
function toOpenAi(
  message: ChatMessage,
  images: Map<string, DecodedImage>,
  sent: Set<string>,
  budget: number,
): Record<string, unknown> {
  if (message.role === "tool") {
    return { role: "tool", tool_call_id: message.toolCallId ?? "", content: message.content };
  }
  if (message.role === "assistant" && message.toolCalls && message.toolCalls.length > 0) {
    return { role: "assistant", content: message.content || null, tool_calls: message.toolCalls };
  }
  if (message.images.length > 0) {
    // OpenAI content parts: the text, then each image as a data: URL
    const parts: Array<Record<string, unknown>> = [];
    if (message.content !== "") parts.push({ type: "text", text: message.content });
    let omitted = 0;
    for (const image of message.images) {
      const data = images.get(image.id);
      if (data && sent.has(image.id))
        parts.push({ type: "image_url", image_url: { url: imageDataUrl(data) } });
      else if (data) omitted += 1;
    }
    if (omitted > 0) {
      const mib = Math.floor(budget / 1024 / 1024);
      parts.push({
        type: "text",
        text: `[${omitted} earlier image${omitted === 1 ? "" : "s"} not sent: the chat's images exceed the ${mib} MiB a request carries]`,
      });
    }
    return { role: message.role, content: parts };
  }
  return { role: message.role, content: message.content };
}

function errorEvent(error: unknown): { code: string; message: string } {
  if (error instanceof UpstreamError) return { code: error.code, message: error.message };
  if (error instanceof ServepilotError) return { code: error.code, message: error.message };
  const message = (error as Error)?.message ?? String(error);
  return { code: "NETWORK_ERROR", message: `the gateway could not be reached: ${message}` };
}
