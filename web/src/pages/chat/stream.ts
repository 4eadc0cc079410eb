/**
 * POST /api/chats/:id/complete read as server-sent events over fetch (the key header goes with it,
 * a 401 asks for the key like every other call): each `event:`/`data:` block becomes {type, data}.
 */
import { apiFetch } from "../../api";

export interface CompleteRequest {
  model?: string;
  content?: string;
  images?: Array<{ mediaType: string; data: string }>;
  temperature?: number;
  maxTokens?: number;
}

export interface ChatStreamEvent {
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: payloads differ by event type; the page narrows them
  data: any;
}

export function parseSseBlock(block: string): ChatStreamEvent | null {
  let type = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") type = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return null;
  const text = data.join("\n");
  try {
    return { type, data: JSON.parse(text) };
  } catch {
    return { type, data: text };
  }
}

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
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, "\n");
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const event = parseSseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) onEvent(event);
      end = buffer.indexOf("\n\n");
    }
  }
  const rest = parseSseBlock(buffer.trim());
  if (rest) onEvent(rest);
}
