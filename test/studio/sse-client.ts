/**
 * A small server-sent-events client over fetch for tests: reads /api/events, parses each event (id,
 * event, data as JSON), keeps them all, and waits for the first one that matches a condition.
 */

export interface SseEvent {
  id: string | null;
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests navigate event payloads freely
  data: any;
}

export interface SseConnection {
  events: SseEvent[];
  /** Resolves with the first event (already received or to come) that matches, or rejects after `timeoutMs`. */
  waitFor(match: (event: SseEvent) => boolean, timeoutMs?: number, what?: string): Promise<SseEvent>;
  close(): void;
}

function parseBlock(block: string): SseEvent | null {
  let id: string | null = null;
  let type = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = value;
    else if (field === "event") type = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return null;
  const text = data.join("\n");
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { id, type, data: parsed };
}

export async function connectSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  if (!response.ok || !response.body) throw new Error(`GET ${url}: ${response.status}`);
  const events: SseEvent[] = [];
  const waiters = new Set<{ match: (event: SseEvent) => boolean; resolve: (event: SseEvent) => void }>();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value.replace(/\r\n/g, "\n");
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const event = parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
          if (event === null) continue;
          events.push(event);
          for (const waiter of [...waiters]) {
            if (waiter.match(event)) {
              waiters.delete(waiter);
              waiter.resolve(event);
            }
          }
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    events,
    waitFor(match, timeoutMs = 60_000, what = "an event") {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (event: SseEvent) => {
            clearTimeout(timer);
            resolve(event);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const recent = events
            .slice(-15)
            .map((e) => `${e.type} ${JSON.stringify(e.data).slice(0, 200)}`)
            .join("\n  ");
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last events:\n  ${recent}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close() {
      controller.abort();
    },
  };
}
