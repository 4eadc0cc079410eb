/**
 * Parser for `nvidia-smi -L`:
 *
 *   GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0000…)
 *     MIG 3g.40gb     Device  0: (UUID: MIG-0000…)
 *
 * MIG lines belong to the GPU line above them.
 */
import type { Parsed } from "./parsed.js";
import { stripAnsi } from "./smi-values.js";
import type { MigDevice } from "./types.js";

export interface NvidiaListedGpu {
  index: number;
  name: string;
  uuid: string | null;
  migDevices: MigDevice[];
}

const GPU_LINE = /^GPU\s+(\d+):\s+(.*?)\s*(?:\(UUID:\s*([^)\s]+)\s*\))?\s*$/;
const MIG_LINE = /^\s*MIG\s+(\S+)\s+Device\s+(\d+):\s*\(UUID:\s*([^)\s]+)\s*\)\s*$/;

/** Returns the GPUs with their MIG devices; a MIG line before any GPU line, or garbage, is an error. */
export function parseNvidiaList(text: string): Parsed<NvidiaListedGpu[]> {
  const gpus: NvidiaListedGpu[] = [];
  for (const [lineIndex, line] of stripAnsi(text).split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    const gpu = GPU_LINE.exec(line);
    if (gpu !== null) {
      gpus.push({ index: Number(gpu[1]), name: gpu[2] ?? "", uuid: gpu[3] ?? null, migDevices: [] });
      continue;
    }
    const mig = MIG_LINE.exec(line);
    const parent = gpus.at(-1);
    if (mig !== null && parent !== undefined) {
      parent.migDevices.push({ profile: mig[1] ?? "", index: Number(mig[2]), uuid: mig[3] ?? "" });
      continue;
    }
    return {
      ok: false,
      error: `line ${lineIndex + 1} is neither a GPU nor a MIG device line: "${line.trim()}"`,
    };
  }
  return { ok: true, value: gpus };
}
