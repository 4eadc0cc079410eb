/**
 * The studio's event stream: every change (status, GPU samples, engine metrics, launch progress,
 * log lines, downloads) is published here once and fanned out to the SSE clients of /api/events.
 *
 * Event ids are `<boot>-<seq>`: `seq` grows by one per event, `boot` identifies this studio process,
 * so a client reconnecting with a Last-Event-ID from a previous run (or one older than the replay
 * buffer) is told to resynchronise instead of silently missing events.
 */

export const EVENT_TYPES = [
  "status",
  "instance",
  "gpu",
  "metrics",
  "launch",
  "log",
  "download",
  "model",
  "benchmark",
  "chat",
  "gateway",
] as const;
export type StudioEventType = (typeof EVENT_TYPES)[number];

export interface StudioEvent {
  id: string;
  seq: number;
  type: StudioEventType;
  /** ISO time it was published. */
  at: string;
  data: unknown;
}

export type EventListener = (event: StudioEvent) => void;

export interface ReplayResult {
  events: StudioEvent[];
  /** True when the client's last id is unknown or too old: it missed events and must refetch state. */
  gap: boolean;
}

export interface EventBusOptions {
  /** Events kept for Last-Event-ID replay (a ring buffer). */
  replayBuffer?: number;
  now?: () => number;
  boot?: string;
}

export class EventBus {
  readonly boot: string;
  private seq = 0;
  private readonly ring: StudioEvent[] = [];
  private readonly capacity: number;
  private readonly listeners = new Set<EventListener>();
  private readonly now: () => number;

  constructor(options: EventBusOptions = {}) {
    this.capacity = options.replayBuffer ?? 2000;
    this.now = options.now ?? Date.now;
    this.boot = options.boot ?? this.now().toString(36);
  }

  publish(type: StudioEventType, data: unknown): StudioEvent {
    this.seq += 1;
    const event: StudioEvent = {
      id: `${this.boot}-${this.seq}`,
      seq: this.seq,
      type,
      at: new Date(this.now()).toISOString(),
      data,
    };
    this.ring.push(event);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const listener of this.listeners) listener(event);
    return event;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** The events after `lastEventId` still in the buffer. */
  since(lastEventId: string | undefined): ReplayResult {
    if (lastEventId === undefined || lastEventId === "") return { events: [], gap: false };
    const match = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId);
    if (!match || match[1] !== this.boot) return { events: [...this.ring], gap: true };
    const last = Number(match[2]);
    if (last > this.seq) return { events: [...this.ring], gap: true };
    const oldest = this.ring[0]?.seq ?? this.seq + 1;
    const events = this.ring.filter((e) => e.seq > last);
    return { events, gap: last + 1 < oldest };
  }
}
