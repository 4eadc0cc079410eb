/**
 * Follows an engine's output as it arrives: splits chunks into lines (a tqdm redraw, ended by "\r",
 * counts as a line so progress shows live), parses each with the engine's parser and keeps the
 * folded StartupState. The launcher feeds it stdout and stderr; the progress display reads `state`.
 */
import { parseLlamacppLine } from "./llamacpp-log.js";
import type { EngineLogEvent } from "./log-events.js";
import { parseSglangLine } from "./sglang-log.js";
import { foldStartupEvent, initialStartupState, type StartupState } from "./startup-state.js";
import { parseVllmLine } from "./vllm-log.js";

export type LogEngine = "vllm" | "sglang" | "llamacpp";

export const ENGINE_LOG_PARSERS: Readonly<Record<LogEngine, (line: string) => EngineLogEvent | null>> = {
  vllm: parseVllmLine,
  sglang: parseSglangLine,
  llamacpp: parseLlamacppLine,
};

export interface StartupTracker {
  /** Feeds raw output (any chunking); returns the events of the lines it completed. */
  pushChunk(chunk: string): EngineLogEvent[];
  /** Feeds one complete line; returns its event, if any. */
  pushLine(line: string): EngineLogEvent | null;
  /** Parses what is left in the buffer (call when the stream ends). */
  flush(): EngineLogEvent[];
  readonly state: StartupState;
}

/** Longest partial line kept while waiting for its end (a runaway line is parsed in pieces). */
const MAX_PENDING_CHARS = 64 * 1024;

export function createStartupTracker(engine: LogEngine): StartupTracker {
  const parse = ENGINE_LOG_PARSERS[engine];
  let state = initialStartupState();
  let pending = "";

  const pushLine = (line: string): EngineLogEvent | null => {
    const event = parse(line);
    if (event) state = foldStartupEvent(state, event);
    return event;
  };
  const pushLines = (lines: string[]): EngineLogEvent[] =>
    lines.map(pushLine).filter((event): event is EngineLogEvent => event !== null);

  return {
    pushLine,
    pushChunk(chunk) {
      const parts = `${pending}${chunk}`.split(/\r\n|\n|\r/);
      pending = parts.pop() ?? "";
      if (pending.length > MAX_PENDING_CHARS) {
        parts.push(pending);
        pending = "";
      }
      return pushLines(parts);
    },
    flush() {
      const rest = pending;
      pending = "";
      return rest === "" ? [] : pushLines([rest]);
    },
    get state() {
      return state;
    },
  };
}
