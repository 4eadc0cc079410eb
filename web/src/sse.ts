/**
 * Server-sent events read over fetch (so that the API key header can go with them, which EventSource
 * cannot do): the stream is cut at blank lines, each block becomes {id, type, data} with `data` parsed
 * as JSON when it is JSON. Used by the shared /api/events connection and by chat completions.
 */

export interface SseEvent {
  id: string | null;
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: payloads differ by event type; callers narrow them
  data: any;
}

/** One `id:` / `event:` / `data:` block; null for comments and blocks without data. */
export function parseSseBlock(block: string): SseEvent | null {
  let id: string | null = null;
  let type = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = value;
    else if (field === "event") type = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return null;
  const text = data.join("\n");
  try {
    return { id, type, data: JSON.parse(text) };
  } catch {
    return { id, type, data: text };
  }
}

/** Every event of a response body, in order, until it ends (a last block without its blank line too). */
export async function readSse(
  body: NonNullable<Response["body"]>,
  onEvent: (event: SseEvent) => void,
): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    // CRLF may be cut between two chunks: normalise the joined text, not each chunk
    buffer = (buffer + value).replace(/\r\n/g, "\n");
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
