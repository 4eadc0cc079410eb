/**
 * Engine log files under `<dataDir>/logs/`. The engine writes to its file directly (O_APPEND), so it
 * keeps logging when the CLI that started it has exited. Rotation is copy-and-truncate: the file is
 * copied to `.1` (older copies shift to `.2` … `.keep`) and truncated; an O_APPEND writer goes on
 * at the new end. Rotated at each launch and whenever a reader finds the file over the size limit.
 */
import { copyFile, mkdir, open, rename, rm, stat, truncate } from "node:fs/promises";
import { dirname } from "node:path";
import { StringDecoder } from "node:string_decoder";

export const LOG_ROTATE_BYTES = 64 * 1024 * 1024;
export const LOG_KEEP = 3;

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch {
    return null;
  }
}

/** Rotates `file` when it is at least `maxBytes` long (0: whenever it has content). */
export async function rotateLog(
  file: string,
  maxBytes = LOG_ROTATE_BYTES,
  keep = LOG_KEEP,
): Promise<boolean> {
  const size = await sizeOf(file);
  if (size === null || size === 0 || size < maxBytes) return false;
  await rm(`${file}.${keep}`, { force: true });
  for (let n = keep - 1; n >= 1; n--) {
    await rename(`${file}.${n}`, `${file}.${n + 1}`).catch(() => {});
  }
  await copyFile(file, `${file}.1`);
  await truncate(file, 0);
  return true;
}

/** Opens `file` for the engine to append to (created 0600, directory made). Returns the fd handle. */
export async function openLogForEngine(file: string) {
  await mkdir(dirname(file), { recursive: true });
  return open(file, "a", 0o600);
}

/** The last `lines` lines of `file` (reads at most the last 1 MiB). */
export async function tailLines(file: string, lines: number): Promise<string[]> {
  const size = await sizeOf(file);
  if (size === null || size === 0 || lines <= 0) return [];
  const length = Math.min(size, 1024 * 1024);
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const all = buffer.toString("utf8").split(/\r\n|\n|\r/);
    if (all.at(-1) === "") all.pop();
    return all.slice(-lines);
  } finally {
    await handle.close();
  }
}

/**
 * Reads what was appended to a file since the last call: `read()` returns the new text (from the
 * start after a truncation). Used to follow an engine's log while it starts and for `logs -f`.
 */
export function createLogReader(file: string, fromOffset = 0) {
  let offset = fromOffset;
  // a multi-byte character split between two reads is completed by the next one
  let decoder = new StringDecoder("utf8");
  return {
    get offset() {
      return offset;
    },
    async read(): Promise<string> {
      const size = await sizeOf(file);
      if (size === null) return "";
      if (size < offset) {
        offset = 0;
        decoder = new StringDecoder("utf8");
      }
      if (size === offset) return "";
      const handle = await open(file, "r");
      try {
        const length = Math.min(size - offset, 4 * 1024 * 1024);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        offset += bytesRead;
        return decoder.write(buffer.subarray(0, bytesRead));
      } finally {
        await handle.close();
      }
    },
  };
}

export async function logSize(file: string): Promise<number> {
  return (await sizeOf(file)) ?? 0;
}
