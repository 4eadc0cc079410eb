import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import { isMissing, toCacheError } from "./cache-fs-error.js";

/**
 * Bytes an unprivileged user can still write on the file system holding `path` (statfs bavail ×
 * bsize). The path may not exist yet: its nearest existing ancestor is asked.
 */
export async function readFreeBytes(path: string): Promise<number> {
  let current = path;
  for (;;) {
    try {
      const info = await statfs(current);
      return info.bavail * info.bsize;
    } catch (error) {
      const parent = dirname(current);
      if (!isMissing(error) || parent === current) throw toCacheError(error, current, "read free space of");
      current = parent;
    }
  }
}
