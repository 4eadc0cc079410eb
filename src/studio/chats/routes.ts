/**
 * /api/chats: chat sessions and their messages (CRUD, fork, usage, export), completions streamed as
 * server-sent events (complete.ts) and the approval of tool calls.
 */
import type { OutgoingHttpHeaders } from "node:http";
import { z } from "zod";
import type { StudioApp, StudioContext } from "../context.js";
import { ApprovalBody, type ChatCompletions, CompleteBody } from "./complete.js";
import { exportJson, exportMarkdown } from "./export.js";
import { decodeImages, IMAGE_BODY_LIMIT, ImagesField } from "./images.js";
import {
  appendMessage,
  createSession,
  deleteMessage,
  deleteSession,
  forkSession,
  getImage,
  getSession,
  listMessages,
  listSessions,
  sessionImageData,
  sessionUsage,
  updateMessage,
  updateSession,
} from "./store.js";

const tags = ["chats"];

const Id = z.string().min(1).max(100);
const IdParams = z.object({ id: Id.describe("chat id") }).strict();
const MessageParams = z.object({ id: Id.describe("chat id"), messageId: Id.describe("message id") }).strict();
const ImageParams = z.object({ id: Id.describe("chat id"), imageId: Id.describe("image id") }).strict();
const CallParams = z.object({ id: Id.describe("chat id"), callId: Id.describe("tool call id") }).strict();

const ToolCallSchema = z
  .object({
    id: z.string().min(1).max(200),
    type: z.literal("function").default("function"),
    function: z.object({ name: z.string().min(1).max(200), arguments: z.string().max(1_000_000) }),
  })
  .describe("an OpenAI tool call");

const CreateBody = z
  .object({
    title: z
      .string()
      .max(200)
      .optional()
      .describe(`default "New chat" (then named after the first exchange)`),
    model: z.string().min(1).max(300).optional().describe("the model completions use by default"),
    systemPrompt: z.string().max(200_000).optional().describe("stored as the first message (role system)"),
  })
  .strict()
  .nullish();

const UpdateBody = z
  .object({
    title: z.string().max(200).optional(),
    model: z.string().min(1).max(300).nullable().optional(),
  })
  .strict();

const AppendBody = z
  .object({
    role: z.enum(["system", "user", "assistant", "tool"]),
    content: z.string().max(1_000_000),
    reasoningContent: z.string().max(1_000_000).nullable().optional(),
    toolCalls: z.array(ToolCallSchema).max(128).nullable().optional().describe("assistant messages only"),
    toolCallId: z.string().min(1).max(200).nullable().optional().describe("tool messages: the call answered"),
    images: ImagesField,
  })
  .strict()
  .superRefine((body, issues) => {
    if (body.images && body.images.length > 0 && body.role !== "user") {
      issues.addIssue({ code: "custom", path: ["images"], message: "only user messages carry images" });
    }
    if (body.toolCalls && body.toolCalls.length > 0 && body.role !== "assistant") {
      issues.addIssue({
        code: "custom",
        path: ["toolCalls"],
        message: "only assistant messages carry tool calls",
      });
    }
    if (body.role === "tool" && !body.toolCallId) {
      issues.addIssue({
        code: "custom",
        path: ["toolCallId"],
        message: "a tool message names the call it answers",
      });
    }
  });

const UpdateMessageBody = z
  .object({
    content: z.string().max(1_000_000).optional(),
    reasoningContent: z.string().max(1_000_000).nullable().optional(),
  })
  .strict();

const ForkBody = z.object({ messageId: Id.describe("the last message the fork keeps") }).strict();

const ExportQuery = z
  .object({ format: z.enum(["markdown", "json"]).default("markdown").describe("markdown (default) or json") })
  .strict();

export function registerChatRoutes(app: StudioApp, ctx: StudioContext, completions: ChatCompletions): void {
  const changed = (sessionId: string, action: string, extra: Record<string, unknown> = {}) =>
    ctx.events.publish("chat", { sessionId, action, ...extra });

  app.post(
    "/api/chats",
    { schema: { tags, summary: "Start a chat (title, default model, system prompt).", body: CreateBody } },
    async (request, reply) => {
      const session = await createSession(ctx.db, request.body ?? {});
      changed(session.id, "created");
      return reply.status(201).send({ ...session, messages: await listMessages(ctx.db, session.id) });
    },
  );

  app.get(
    "/api/chats",
    {
      schema: {
        tags,
        summary: "Every chat, most recently updated first, with its message count and token usage.",
      },
    },
    async () => ({ chats: await listSessions(ctx.db) }),
  );

  app.get(
    "/api/chats/:id",
    { schema: { tags, summary: "One chat and its messages (in order of seq).", params: IdParams } },
    async (request) => {
      const session = await getSession(ctx.db, request.params.id);
      return { ...session, messages: await listMessages(ctx.db, session.id) };
    },
  );

  app.patch(
    "/api/chats/:id",
    { schema: { tags, summary: "Rename a chat or change its model.", params: IdParams, body: UpdateBody } },
    async (request) => {
      const session = await updateSession(ctx.db, request.params.id, request.body);
      changed(session.id, "updated");
      return session;
    },
  );

  app.delete(
    "/api/chats/:id",
    { schema: { tags, summary: "Delete a chat and its messages.", params: IdParams } },
    async (request) => {
      await deleteSession(ctx.db, request.params.id);
      changed(request.params.id, "deleted");
      return { id: request.params.id, deleted: true };
    },
  );

  app.post(
    "/api/chats/:id/messages",
    {
      schema: {
        tags,
        summary: "Append a message (its seq is the chat's last + 1).",
        description:
          "User messages may carry images (base64, PNG / JPEG / WebP / GIF) for vision-language models.",
        params: IdParams,
        body: AppendBody,
      },
      bodyLimit: IMAGE_BODY_LIMIT,
    },
    async (request, reply) => {
      const { images, ...body } = request.body;
      const message = await appendMessage(ctx.db, request.params.id, {
        ...body,
        images: decodeImages(images, "body.images"),
      });
      changed(request.params.id, "message", { messageId: message.id });
      return reply.status(201).send(message);
    },
  );

  app.get(
    "/api/chats/:id/images/:imageId",
    { schema: { tags, summary: "An image attached to a message (its bytes).", params: ImageParams } },
    async (request, reply) => {
      const image = await getImage(ctx.db, request.params.id, request.params.imageId);
      reply.header("content-type", image.mediaType);
      // an image never changes under its id; a deleted one is gone (404)
      reply.header("cache-control", "private, max-age=31536000, immutable");
      reply.header("x-content-type-options", "nosniff");
      return reply.send(image.data);
    },
  );

  app.patch(
    "/api/chats/:id/messages/:messageId",
    {
      schema: {
        tags,
        summary: "Edit a message's content (or reasoning).",
        params: MessageParams,
        body: UpdateMessageBody,
      },
    },
    async (request) => {
      const { id, messageId } = request.params;
      const message = await updateMessage(ctx.db, id, messageId, request.body);
      changed(id, "message", { messageId });
      return message;
    },
  );

  app.delete(
    "/api/chats/:id/messages/:messageId",
    { schema: { tags, summary: "Delete a message (the others keep their seq).", params: MessageParams } },
    async (request) => {
      const { id, messageId } = request.params;
      await deleteMessage(ctx.db, id, messageId);
      changed(id, "message-deleted", { messageId });
      return { id: messageId, deleted: true };
    },
  );

  app.post(
    "/api/chats/:id/fork",
    {
      schema: {
        tags,
        summary: "A new chat with this chat's messages up to and including one.",
        params: IdParams,
        body: ForkBody,
      },
    },
    async (request, reply) => {
      const fork = await forkSession(ctx.db, request.params.id, request.body.messageId);
      changed(fork.id, "created", { forkedFrom: request.params.id });
      return reply.status(201).send({ ...fork, messages: await listMessages(ctx.db, fork.id) });
    },
  );

  app.get(
    "/api/chats/:id/usage",
    {
      schema: {
        tags,
        summary: "Token usage: the gateway requests of this chat, summed and per message.",
        params: IdParams,
      },
    },
    async (request) => sessionUsage(ctx.db, request.params.id),
  );

  app.get(
    "/api/chats/:id/export",
    {
      schema: {
        tags,
        summary: "The chat as a Markdown or JSON file.",
        params: IdParams,
        querystring: ExportQuery,
      },
    },
    async (request, reply) => {
      const session = await getSession(ctx.db, request.params.id);
      const messages = await listMessages(ctx.db, session.id);
      const { format } = request.query;
      // the file name comes from the id (a UUID), never from the title
      const safeId = session.id.replace(/[^A-Za-z0-9-]/g, "");
      const extension = format === "json" ? "json" : "md";
      reply.header("content-disposition", `attachment; filename="chat-${safeId}.${extension}"`);
      const images = await sessionImageData(ctx.db, session.id);
      if (format === "json") {
        reply.header("content-type", "application/json; charset=utf-8");
        return JSON.stringify(exportJson(session, messages, images), null, 2);
      }
      reply.header("content-type", "text/markdown; charset=utf-8");
      return exportMarkdown(session, messages, images);
    },
  );

  app.post(
    "/api/chats/:id/complete",
    {
      schema: {
        tags,
        summary:
          "Answer the chat: a text/event-stream of delta, reasoning, tool_call, tool_result, message, usage, title, done, error.",
        description:
          "Calls the studio's gateway (/v1/chat/completions, streamed). With tools on, the enabled MCP servers' tools are offered as <server>__<tool>; calls to a server with approval \"always\" wait for POST /api/chats/:id/tool-calls/:callId. Disconnecting aborts the turn.",
        params: IdParams,
        body: CompleteBody,
      },
      bodyLimit: IMAGE_BODY_LIMIT,
    },
    async (request, reply) => {
      const run = await completions.prepare(request.params.id, request.body);
      const headers = reply.getHeaders();
      reply.hijack();
      await run(reply.raw, headers as OutgoingHttpHeaders);
    },
  );

  app.post(
    "/api/chats/:id/tool-calls/:callId",
    {
      schema: {
        tags,
        summary: "Approve or deny a tool call that waits for approval.",
        params: CallParams,
        body: ApprovalBody,
      },
    },
    async (request) => {
      const { id, callId } = request.params;
      completions.decide(id, callId, request.body.approve);
      return { id: callId, approved: request.body.approve };
    },
  );
}
