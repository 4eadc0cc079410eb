/**
 * Follows a live instance's log file and hands each new line to `onLine` (the studio publishes them as
 * `log` events). Starts at the file's current end, so that only new lines go out; survives the
 * copy-and-truncate rotation (the reader starts over from the top of the truncated file).
 */
import { createLogReader, logSize } from "../../runtime/supervisor/log-file.js";

export interface LogFollower {
  stop(): void;
}

export async function followLog(
  file: string,
  onLine: (line: string) => void,
  options: { intervalMs: number; fromStart?: boolean },
): Promise<LogFollower> {
  const reader = createLogReader(file, options.fromStart ? 0 : await logSize(file));
  let partial = "";
  let stopped = false;
  let busy = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      const text = await reader.read();
      if (text === "") return;
      const lines = (partial + text).split(/\r\n|\n|\r/);
      partial = lines.pop() ?? "";
      for (const line of lines) if (!stopped && line !== "") onLine(line);
    } catch {
      // the file may be mid-rotation; the next tick reads it again
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
