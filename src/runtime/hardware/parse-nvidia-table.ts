/**
 * Parser for the default `nvidia-smi` table, used as a fallback when the CSV query cannot be read.
 * Handles the pre-530 layout ("| GPU  Name        Persistence-M| Bus-Id …") and the current one,
 * whose GPU blocks are three rows of three "|"-separated cells:
 *
 *   |   0  NVIDIA H100 80GB HBM3          On  |   00000000:18:00.0 Off |                    0 |
 *   | N/A   28C    P0             88W /  700W |       0MiB /  81559MiB |      0%      Default |
 *   |                                         |                        |             Disabled |
 *
 * The table truncates long names ("NVIDIA A100 80G..."); such names are flagged.
 */
import type { Parsed } from "./parsed.js";
import { readSmiNumber, stripAnsi } from "./smi-values.js";

export interface NvidiaTableGpu {
  index: number;
  name: string;
  nameTruncated: boolean;
  pciBusId: string | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  utilizationPercent: number | null;
  /** The "MIG M." cell: true for Enabled, false for Disabled, null for N/A or absent. */
  migEnabled: boolean | null;
}

export interface NvidiaTableProcess {
  gpuIndex: number;
  pid: number;
  name: string;
  usedMemoryMiB: number | null;
}

export interface NvidiaTable {
  gpus: NvidiaTableGpu[];
  processes: NvidiaTableProcess[];
}

const FIRST_ROW = /^(\d+)\s+(.+?)\s+(On|Off)$/;
const BUS_ID = /^([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])\b/;
const POWER = /(\S+)\s*\/\s*(\S+)$/;
const MEMORY = /(\d+)MiB\s*\/\s*(\d+)MiB/;
const PROCESS_ROW = /^(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+\S+\s+(.+?)\s+(\d+MiB|N\/A)$/;

function cellsOf(line: string): string[] | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("|") || !trimmed.endsWith("|")) return null;
  return trimmed
    .slice(1, -1)
    .split("|")
    .map((cell) => cell.trim());
}

function readPowerPair(cell: string): { draw: number | null; limit: number | null } {
  const match = POWER.exec(cell);
  if (match === null) return { draw: null, limit: null };
  return { draw: readSmiNumber(match[1]), limit: readSmiNumber(match[2]) };
}

export function parseNvidiaTable(text: string): Parsed<NvidiaTable> {
  const rows = stripAnsi(text)
    .split(/\r?\n/)
    .map(cellsOf)
    .filter((cells): cells is string[] => cells !== null);
  const gpus: NvidiaTableGpu[] = [];
  const processes: NvidiaTableProcess[] = [];
  for (const [i, cells] of rows.entries()) {
    if (cells.length === 3) {
      const first = FIRST_ROW.exec(cells[0] ?? "");
      const bus = BUS_ID.exec(cells[1] ?? "");
      if (first === null || bus === null) continue;
      const second = rows[i + 1] ?? [];
      const third = rows[i + 2] ?? [];
      const memory = MEMORY.exec(second[1] ?? "");
      const temp = /(\d+)C\b/.exec(second[0] ?? "");
      const util = /^(\d+)%/.exec(second[2] ?? "");
      const power = readPowerPair(second[0] ?? "");
      const migCell = third.length === 3 ? (third[2] ?? "") : "";
      const name = first[2] ?? "";
      gpus.push({
        index: Number(first[1]),
        name,
        nameTruncated: name.endsWith("..."),
        pciBusId: bus[1] ?? null,
        temperatureC: temp === null ? null : Number(temp[1]),
        powerDrawW: power.draw,
        powerLimitW: power.limit,
        memoryUsedMiB: memory === null ? null : Number(memory[1]),
        memoryTotalMiB: memory === null ? null : Number(memory[2]),
        utilizationPercent: util === null ? null : Number(util[1]),
        migEnabled: migCell === "Enabled" ? true : migCell === "Disabled" ? false : null,
      });
      continue;
    }
    if (cells.length === 1) {
      const process = PROCESS_ROW.exec(cells[0] ?? "");
      if (process !== null) {
        processes.push({
          gpuIndex: Number(process[1]),
          pid: Number(process[4]),
          name: process[5] ?? "",
          usedMemoryMiB: readSmiNumber((process[6] ?? "").replace(/MiB$/, "")),
        });
      }
    }
  }
  if (gpus.length === 0) return { ok: false, error: "no GPU rows found in the nvidia-smi table" };
  return { ok: true, value: { gpus, processes } };
}
