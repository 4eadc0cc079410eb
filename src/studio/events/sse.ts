/**
 * One server-sent-events connection with a bounded send queue. Writes go straight to the socket
 * while it accepts them; once the socket pushes back, events queue, and a client whose queue passes
 * the limit is dropped cleanly (the stream ends; EventSource reconnects with Last-Event-ID and replays
 * from the bus buffer). A slow client therefore costs bounded memory and never slows the others.
 */
import type { ServerResponse } from "node:http";
import type { StudioEvent } from "./bus.js";

export interface SseClientOptions {
  /** Events that may wait for a slow socket before the client is dropped. */
  queueLimit?: number;
  /** Comment line sent this often so proxies keep the stream open (ms). */
  heartbeatMs?: number;
  /** Suggested reconnect delay sent to the client (ms). */
  retryMs?: number;
  onClose?: (reason: "client" | "slow" | "server") => void;
}

export function formatSse(event: Pick<StudioEvent, "id" | "type" | "data">): string {
  const json = JSON.stringify(event.data);
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${json}\n\n`;
}

export class SseClient {
  private readonly queue: string[] = [];
  private blocked = false;
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly queueLimit: number;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseClientOptions = {},
  ) {
    this.queueLimit = options.queueLimit ?? 256;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(`retry: ${options.retryMs ?? 2000}\n\n`);
    res.on("drain", () => this.flush());
    res.on("close", () => this.close("client"));
    this.heartbeat = setInterval(() => this.sendRaw(": heartbeat\n\n"), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get queued(): number {
    return this.queue.length;
  }

  send(event: Pick<StudioEvent, "id" | "type" | "data">): void {
    this.sendRaw(formatSse(event));
  }

  private sendRaw(chunk: string): void {
    if (this.closed) return;
    if (this.blocked) {
      this.queue.push(chunk);
      if (this.queue.length > this.queueLimit) this.close("slow");
      return;
    }
    if (!this.res.write(chunk)) this.blocked = true;
  }

  private flush(): void {
    this.blocked = false;
    while (!this.closed && this.queue.length > 0) {
      const chunk = this.queue.shift() as string;
      if (!this.res.write(chunk)) {
        this.blocked = true;
        return;
      }
    }
  }

  close(reason: "client" | "slow" | "server"): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.queue.length = 0;
    if (reason === "slow") {
      // A slow reader's socket is full: end it without waiting for the buffered bytes.
      this.res.destroy();
    } else if (!this.res.writableEnded) {
      this.res.end();
    }
    this.options.onClose?.(reason);
  }
}
