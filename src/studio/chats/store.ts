/**
 * Chat sessions and their messages in SQLite. Messages are ordered by `seq` (1, 2, 3 … per session,
 * unique), assigned as max + 1 inside one transaction, so concurrent appends never collide or
 * reorder; timestamps are never used for order. A system prompt is the session's first message.
 */
import { randomUUID } from "node:crypto";
import { type Kysely, type Selectable, sql } from "kysely";
import { ServepilotError } from "../../core/errors.js";
import type { ChatMessagesTable, ChatSessionsTable, StudioDatabase } from "../db/schema.js";
import type { DecodedImage, ImageMediaType } from "./images.js";

type Db = Kysely<StudioDatabase>;

export const DEFAULT_TITLE = "New chat";
export type ChatRole = ChatMessagesTable["role"];

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** An image attached to a message: its bytes are served by GET /api/chats/:id/images/:imageId. */
export interface ChatImage {
  id: string;
  mediaType: ImageMediaType;
  bytes: number;
}

export interface ChatMessage {
  id: string;
  sessionId: string;
  seq: number;
  role: ChatRole;
  content: string;
  reasoningContent: string | null;
  toolCalls: ToolCall[] | null;
  toolCallId: string | null;
  requestId: string | null;
  /** Attached images (user messages), in order; empty when none. */
  images: ChatImage[];
  createdAt: string;
}

export interface ChatSession {
  id: string;
  title: string;
  model: string | null;
  forkedFromSessionId: string | null;
  forkedFromMessageId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewMessage {
  role: ChatRole;
  content: string;
  reasoningContent?: string | null;
  toolCalls?: ToolCall[] | null;
  toolCallId?: string | null;
  requestId?: string | null;
  images?: DecodedImage[];
}

function sessionFromRow(row: Selectable<ChatSessionsTable>): ChatSession {
  return {
    id: row.id,
    title: row.title,
    model: row.model,
    forkedFromSessionId: row.forked_from_session_id,
    forkedFromMessageId: row.forked_from_message_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function messageFromRow(row: Selectable<ChatMessagesTable>, images: ChatImage[] = []): ChatMessage {
  let toolCalls: ToolCall[] | null = null;
  if (row.tool_calls !== null) {
    try {
      toolCalls = JSON.parse(row.tool_calls) as ToolCall[];
    } catch {
      toolCalls = null;
    }
  }
  return {
    id: row.id,
    sessionId: row.session_id,
    seq: row.seq,
    role: row.role,
    content: row.content,
    reasoningContent: row.reasoning_content,
    toolCalls,
    toolCallId: row.tool_call_id,
    requestId: row.request_id,
    images,
    createdAt: row.created_at,
  };
}

/** The images of a session's messages (or of one message), grouped by message id, in order. */
async function imagesByMessage(
  db: Db,
  sessionId: string,
  messageId?: string,
): Promise<Map<string, ChatImage[]>> {
  let query = db
    .selectFrom("chat_attachments")
    .select(["id", "message_id", "media_type", "bytes"])
    .where("session_id", "=", sessionId);
  if (messageId !== undefined) query = query.where("message_id", "=", messageId);
  const rows = await query.orderBy("message_id").orderBy("idx").execute();
  const byMessage = new Map<string, ChatImage[]>();
  for (const row of rows) {
    const list = byMessage.get(row.message_id) ?? [];
    list.push({ id: row.id, mediaType: row.media_type as ImageMediaType, bytes: row.bytes });
    byMessage.set(row.message_id, list);
  }
  return byMessage;
}

/** One attached image with its bytes; NOT_FOUND when the chat has no such image. */
export async function getImage(db: Db, sessionId: string, imageId: string): Promise<DecodedImage> {
  const row = await db
    .selectFrom("chat_attachments")
    .select(["media_type", "data"])
    .where("session_id", "=", sessionId)
    .where("id", "=", imageId)
    .executeTakeFirst();
  if (!row) {
    await getSession(db, sessionId);
    throw new ServepilotError("NOT_FOUND", `chat ${sessionId} has no image ${imageId}`, {
      details: { id: sessionId, imageId },
    });
  }
  return { mediaType: row.media_type as ImageMediaType, data: Buffer.from(row.data) };
}

/** Every image of a session with its bytes, by image id (for the model's request and the JSON export). */
export async function sessionImageData(db: Db, sessionId: string): Promise<Map<string, DecodedImage>> {
  const rows = await db
    .selectFrom("chat_attachments")
    .select(["id", "media_type", "data"])
    .where("session_id", "=", sessionId)
    .execute();
  return new Map(
    rows.map((row) => [row.id, { mediaType: row.media_type as ImageMediaType, data: Buffer.from(row.data) }]),
  );
}

function notFound(id: string): ServepilotError {
  return new ServepilotError("NOT_FOUND", `no chat ${id}`, {
    hint: "GET /api/chats lists them",
    details: { id },
  });
}

function messageNotFound(sessionId: string, messageId: string): ServepilotError {
  return new ServepilotError("NOT_FOUND", `chat ${sessionId} has no message ${messageId}`, {
    details: { id: sessionId, messageId },
  });
}

export async function getSession(db: Db, id: string): Promise<ChatSession> {
  const row = await db.selectFrom("chat_sessions").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound(id);
  return sessionFromRow(row);
}

export async function listMessages(db: Db, sessionId: string): Promise<ChatMessage[]> {
  const rows = await db
    .selectFrom("chat_messages")
    .selectAll()
    .where("session_id", "=", sessionId)
    .orderBy("seq")
    .execute();
  const images = await imagesByMessage(db, sessionId);
  return rows.map((row) => messageFromRow(row, images.get(row.id)));
}

export async function getMessage(db: Db, sessionId: string, messageId: string): Promise<ChatMessage> {
  const row = await db
    .selectFrom("chat_messages")
    .selectAll()
    .where("session_id", "=", sessionId)
    .where("id", "=", messageId)
    .executeTakeFirst();
  if (!row) {
    await getSession(db, sessionId);
    throw messageNotFound(sessionId, messageId);
  }
  return messageFromRow(row, (await imagesByMessage(db, sessionId, messageId)).get(messageId));
}

export async function createSession(
  db: Db,
  input: { title?: string | undefined; model?: string | null | undefined; systemPrompt?: string | undefined },
): Promise<ChatSession> {
  const now = new Date().toISOString();
  const session: ChatSession = {
    id: randomUUID(),
    title: input.title?.trim() || DEFAULT_TITLE,
    model: input.model ?? null,
    forkedFromSessionId: null,
    forkedFromMessageId: null,
    createdAt: now,
    updatedAt: now,
  };
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto("chat_sessions")
      .values({
        id: session.id,
        title: session.title,
        model: session.model,
        forked_from_session_id: null,
        forked_from_message_id: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    if (input.systemPrompt) {
      await trx
        .insertInto("chat_messages")
        .values(messageValues(session.id, 1, { role: "system", content: input.systemPrompt }, now))
        .execute();
    }
  });
  return session;
}

export interface SessionSummary extends ChatSession {
  messageCount: number;
  usage: { requests: number; promptTokens: number; completionTokens: number; cachedTokens: number };
}

/** Every session, most recently updated first, with its message count and token usage. */
export async function listSessions(db: Db): Promise<SessionSummary[]> {
  const rows = await db
    .selectFrom("chat_sessions as s")
    .selectAll("s")
    .select((eb) => [
      eb
        .selectFrom("chat_messages as m")
        .whereRef("m.session_id", "=", "s.id")
        .select(eb.fn.countAll<number>().as("n"))
        .as("message_count"),
      eb
        .selectFrom("requests as r")
        .whereRef("r.chat_session_id", "=", "s.id")
        .select(eb.fn.countAll<number>().as("n"))
        .as("requests"),
      eb
        .selectFrom("requests as r")
        .whereRef("r.chat_session_id", "=", "s.id")
        .select(sql<number>`coalesce(sum(r.prompt_tokens), 0)`.as("n"))
        .as("prompt_tokens"),
      eb
        .selectFrom("requests as r")
        .whereRef("r.chat_session_id", "=", "s.id")
        .select(sql<number>`coalesce(sum(r.completion_tokens), 0)`.as("n"))
        .as("completion_tokens"),
      eb
        .selectFrom("requests as r")
        .whereRef("r.chat_session_id", "=", "s.id")
        .select(sql<number>`coalesce(sum(r.cached_tokens), 0)`.as("n"))
        .as("cached_tokens"),
    ])
    .orderBy("s.updated_at", "desc")
    .orderBy("s.created_at", "desc")
    .orderBy("s.id")
    .execute();
  return rows.map((row) => ({
    ...sessionFromRow(row),
    messageCount: Number(row.message_count ?? 0),
    usage: {
      requests: Number(row.requests ?? 0),
      promptTokens: Number(row.prompt_tokens ?? 0),
      completionTokens: Number(row.completion_tokens ?? 0),
      cachedTokens: Number(row.cached_tokens ?? 0),
    },
  }));
}

/** A strictly later updated_at than the session's (several changes within a millisecond still order). */
function touchTime(previous: string): string {
  const now = new Date().toISOString();
  if (now > previous) return now;
  return new Date(Date.parse(previous) + 1).toISOString();
}

export async function updateSession(
  db: Db,
  id: string,
  change: { title?: string | undefined; model?: string | null | undefined },
): Promise<ChatSession> {
  return db.transaction().execute(async (trx) => {
    const current = await getSession(trx, id);
    const next: ChatSession = {
      ...current,
      ...(change.title !== undefined ? { title: change.title.trim() || DEFAULT_TITLE } : {}),
      ...(change.model !== undefined ? { model: change.model } : {}),
      updatedAt: touchTime(current.updatedAt),
    };
    await trx
      .updateTable("chat_sessions")
      .set({ title: next.title, model: next.model, updated_at: next.updatedAt })
      .where("id", "=", id)
      .execute();
    return next;
  });
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await getSession(trx, id);
    await trx.deleteFrom("chat_messages").where("session_id", "=", id).execute();
    await trx.deleteFrom("chat_sessions").where("id", "=", id).execute();
  });
}

function messageValues(sessionId: string, seq: number, input: NewMessage, now: string) {
  return {
    id: randomUUID(),
    session_id: sessionId,
    seq,
    role: input.role,
    content: input.content,
    reasoning_content: input.reasoningContent ?? null,
    tool_calls: input.toolCalls && input.toolCalls.length > 0 ? JSON.stringify(input.toolCalls) : null,
    tool_call_id: input.toolCallId ?? null,
    request_id: input.requestId ?? null,
    created_at: now,
  };
}

/** Appends a message: seq = max + 1, in one transaction with the session's updated_at. */
export async function appendMessage(db: Db, sessionId: string, input: NewMessage): Promise<ChatMessage> {
  return db.transaction().execute(async (trx) => {
    const session = await getSession(trx, sessionId);
    const top = await trx
      .selectFrom("chat_messages")
      .select((eb) => eb.fn.max("seq").as("seq"))
      .where("session_id", "=", sessionId)
      .executeTakeFirst();
    const now = new Date().toISOString();
    const values = messageValues(sessionId, Number(top?.seq ?? 0) + 1, input, now);
    await trx.insertInto("chat_messages").values(values).execute();
    const images: ChatImage[] = [];
    for (const [idx, image] of (input.images ?? []).entries()) {
      const id = randomUUID();
      await trx
        .insertInto("chat_attachments")
        .values({
          id,
          session_id: sessionId,
          message_id: values.id,
          idx,
          media_type: image.mediaType,
          bytes: image.data.length,
          data: image.data,
          created_at: now,
        })
        .execute();
      images.push({ id, mediaType: image.mediaType, bytes: image.data.length });
    }
    await trx
      .updateTable("chat_sessions")
      .set({ updated_at: touchTime(session.updatedAt) })
      .where("id", "=", sessionId)
      .execute();
    return messageFromRow(values, images);
  });
}

export async function updateMessage(
  db: Db,
  sessionId: string,
  messageId: string,
  change: { content?: string | undefined; reasoningContent?: string | null | undefined },
): Promise<ChatMessage> {
  return db.transaction().execute(async (trx) => {
    const current = await getMessage(trx, sessionId, messageId);
    const next: ChatMessage = {
      ...current,
      ...(change.content !== undefined ? { content: change.content } : {}),
      ...(change.reasoningContent !== undefined ? { reasoningContent: change.reasoningContent } : {}),
    };
    await trx
      .updateTable("chat_messages")
      .set({ content: next.content, reasoning_content: next.reasoningContent })
      .where("id", "=", messageId)
      .execute();
    const session = await getSession(trx, sessionId);
    await trx
      .updateTable("chat_sessions")
      .set({ updated_at: touchTime(session.updatedAt) })
      .where("id", "=", sessionId)
      .execute();
    return next;
  });
}

export async function deleteMessage(db: Db, sessionId: string, messageId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await getMessage(trx, sessionId, messageId);
    await trx.deleteFrom("chat_messages").where("id", "=", messageId).execute();
    const session = await getSession(trx, sessionId);
    await trx
      .updateTable("chat_sessions")
      .set({ updated_at: touchTime(session.updatedAt) })
      .where("id", "=", sessionId)
      .execute();
  });
}

/** A new session with the messages up to and including `messageId` (same seq, new ids). */
export async function forkSession(db: Db, sessionId: string, messageId: string): Promise<ChatSession> {
  return db.transaction().execute(async (trx) => {
    const source = await getSession(trx, sessionId);
    const at = await getMessage(trx, sessionId, messageId);
    const now = new Date().toISOString();
    const fork: ChatSession = {
      id: randomUUID(),
      title: `${source.title} (fork)`.slice(0, 200),
      model: source.model,
      forkedFromSessionId: source.id,
      forkedFromMessageId: at.id,
      createdAt: now,
      updatedAt: now,
    };
    await trx
      .insertInto("chat_sessions")
      .values({
        id: fork.id,
        title: fork.title,
        model: fork.model,
        forked_from_session_id: fork.forkedFromSessionId,
        forked_from_message_id: fork.forkedFromMessageId,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const rows = await trx
      .selectFrom("chat_messages")
      .selectAll()
      .where("session_id", "=", sessionId)
      .where("seq", "<=", at.seq)
      .orderBy("seq")
      .execute();
    const attachments = await trx
      .selectFrom("chat_attachments")
      .selectAll()
      .where("session_id", "=", sessionId)
      .execute();
    for (const row of rows) {
      const id = randomUUID();
      await trx
        .insertInto("chat_messages")
        .values({ ...row, id, session_id: fork.id })
        .execute();
      for (const attachment of attachments.filter((a) => a.message_id === row.id)) {
        await trx
          .insertInto("chat_attachments")
          .values({ ...attachment, id: randomUUID(), session_id: fork.id, message_id: id })
          .execute();
      }
    }
    return fork;
  });
}

export interface UsageTotals {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  totalTokens: number;
}

/** Token usage of a session: the gateway's request rows linked to it, in total and per message. */
export async function sessionUsage(db: Db, sessionId: string) {
  const session = await getSession(db, sessionId);
  const total = await db
    .selectFrom("requests")
    .where("chat_session_id", "=", sessionId)
    .select((eb) => [
      eb.fn.countAll<number>().as("requests"),
      sql<number>`coalesce(sum(prompt_tokens), 0)`.as("prompt"),
      sql<number>`coalesce(sum(completion_tokens), 0)`.as("completion"),
      sql<number>`coalesce(sum(cached_tokens), 0)`.as("cached"),
    ])
    .executeTakeFirstOrThrow();
  const perMessage = await db
    .selectFrom("chat_messages as m")
    .innerJoin("requests as r", "r.request_id", "m.request_id")
    .where("m.session_id", "=", sessionId)
    .select([
      "m.id as messageId",
      "m.seq as seq",
      "m.role as role",
      "m.request_id as requestId",
      "r.model as model",
      "r.prompt_tokens as promptTokens",
      "r.completion_tokens as completionTokens",
      "r.cached_tokens as cachedTokens",
      "r.ttft_ms as ttftMs",
      "r.duration_ms as durationMs",
    ])
    .orderBy("m.seq")
    .execute();
  const totals: UsageTotals = {
    requests: Number(total.requests),
    promptTokens: Number(total.prompt),
    completionTokens: Number(total.completion),
    cachedTokens: Number(total.cached),
    totalTokens: Number(total.prompt) + Number(total.completion),
  };
  return { sessionId: session.id, ...totals, messages: perMessage };
}
