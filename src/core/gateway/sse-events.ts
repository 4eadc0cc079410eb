/**
 * Server-sent events as engines stream them (vLLM, SGLang, llama-server: `data: {json}` blocks ended
 * by a blank line, `data: [DONE]` last). The splitter cuts a byte stream, decoded as text, into whole
 * events wherever the chunks fall; events come back as their raw text so that a gateway can forward
 * them unchanged, without decoding their JSON.
 */
export class SseEventSplitter {
  private buffer = "";

  /** The events completed by this piece of text (each without its terminating blank line). */
  push(text: string): string[] {
    let buffer = this.buffer + text;
    if (buffer.includes("\r")) {
      // a CR that ends the piece may be the first half of a CRLF cut between chunks: it waits for the next
      const held = buffer.endsWith("\r") ? "\r" : "";
      buffer = buffer.slice(0, buffer.length - held.length).replace(/\r\n?/g, "\n") + held;
    }
    const events: string[] = [];
    let start = 0;
    let at = buffer.indexOf("\n\n");
    while (at >= 0) {
      const event = buffer.slice(start, at);
      if (event.trim().length > 0) events.push(event);
      start = at + 2;
      at = buffer.indexOf("\n\n", start);
    }
    this.buffer = start === 0 ? buffer : buffer.slice(start);
    return events;
  }

  /** What is left when the stream ends (an event the engine did not terminate), if anything. */
  rest(): string | null {
    const rest = this.buffer.replace(/\r$/, "\n");
    this.buffer = "";
    return rest.trim().length > 0 ? rest : null;
  }
}

/** The data of an event: its `data:` lines joined by newlines (the SSE spec); null when it has none. */
export function eventData(event: string): string | null {
  // the common case, one `data: ` line, without splitting
  if (event.startsWith("data: ") && !event.includes("\n")) return event.slice(6);
  let data: string | null = null;
  for (const line of event.split("\n")) {
    if (!line.startsWith("data:")) continue;
    const value = line.slice(line.startsWith("data: ") ? 6 : 5);
    data = data === null ? value : `${data}\n${value}`;
  }
  return data;
}
