/** Shapes of /api/chats (docs/studio-chats.md) and /v1/models as the Chat page uses them. */

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** An image attached to a user message (its bytes: GET /api/chats/:id/images/:imageId). */
export interface ChatImage {
  id: string;
  mediaType: string;
  bytes: number;
}

export interface ChatMessage {
  id: string;
  sessionId: string;
  seq: number;
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  reasoningContent: string | null;
  toolCalls: ToolCall[] | null;
  toolCallId: string | null;
  requestId: string | null;
  images?: ChatImage[];
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

export interface ChatWithMessages extends ChatSession {
  messages: ChatMessage[];
}

export interface SessionSummary extends ChatSession {
  messageCount: number;
  usage: { requests: number; promptTokens: number; completionTokens: number; cachedTokens: number };
}

export interface MessageUsage {
  messageId: string;
  requestId: string | null;
  model?: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
  ttftMs?: number | null;
  durationMs?: number | null;
}

export interface SessionUsage {
  sessionId: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  totalTokens: number;
  messages: MessageUsage[];
}

/** One entry of GET /v1/models (the studio adds `servepilot`). */
export interface GatewayModel {
  id: string;
  root?: string;
  servepilot?: { status: string; instance: string | null; engine: string | null; onDemand: boolean };
}

/** A tool call seen on the stream of the running turn. */
export interface LiveToolCall {
  id: string;
  server: string;
  name: string;
  needsApproval: boolean;
  decided: boolean | null;
  result: { content: string; isError: boolean } | null;
}

/** Token figures of one model call, from the stream's `usage` event or GET /api/chats/:id/usage. */
export interface Tokens {
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
  ttftMs?: number | null;
}
