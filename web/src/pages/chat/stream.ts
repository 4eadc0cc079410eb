/**
 * POST /api/chats/:id/complete read as server-sent events over fetch (the key header goes with it,
 * a 401 asks for the key like every other call): each `event:`/`data:` block becomes {type, data}.
 */
import { apiFetch } from "../../api";
import { readSse, type SseEvent } from "../../sse";

export interface CompleteRequest {
  model?: string;
  content?: string;
  images?: Array<{ mediaType: string; data: string }>;
  temperature?: number;
  maxTokens?: number;
}

export type ChatStreamEvent = SseEvent;

/** Runs one turn, calling `onEvent` for each event until the stream ends (or `signal` aborts it). */
export async function streamComplete(
  chatId: string,
  body: CompleteRequest,
  signal: AbortSignal,
  onEvent: (event: ChatStreamEvent) => void,
  onOpen?: () => void,
): Promise<void> {
  const response = await apiFetch(
    `/api/chats/${encodeURIComponent(chatId)}/complete`,
    { method: "POST", body, signal },
    "text/event-stream",
  );
  if (!response.body) throw new Error("the completion answered without a body");
  onOpen?.();
  await readSse(response.body, onEvent);
}
