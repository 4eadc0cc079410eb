/**
 * Properties of the pure parsers: whatever text or JSON a tool prints (random, or a real capture
 * with random damage), a parser returns a value or a typed error. It never throws.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  parseAmdSmiList,
  parseAmdSmiMetric,
  parseAmdSmiStatic,
  parseAmdSmiVersion,
} from "../../../src/runtime/hardware/parse-amd-smi.js";
import { parseNvidiaList } from "../../../src/runtime/hardware/parse-nvidia-list.js";
import {
  NVIDIA_GPU_FIELDS,
  parseNvidiaBanner,
  parseNvidiaComputeApps,
  parseNvidiaGpuQuery,
} from "../../../src/runtime/hardware/parse-nvidia-smi.js";
import { parseNvidiaTable } from "../../../src/runtime/hardware/parse-nvidia-table.js";
import { parseNvidiaTopology } from "../../../src/runtime/hardware/parse-nvidia-topo.js";
import { parseRocmSmi } from "../../../src/runtime/hardware/parse-rocm-smi.js";
import type { Parsed } from "../../../src/runtime/hardware/parsed.js";
import { readSmiNumber } from "../../../src/runtime/hardware/smi-values.js";
import { resolveNvidiaVisibility } from "../../../src/runtime/hardware/visible-devices.js";
import { readFixture } from "./fixtures.js";

const TEXT_PARSERS: Record<string, (text: string) => Parsed<unknown>> = {
  "query-gpu": (text) => parseNvidiaGpuQuery(text, NVIDIA_GPU_FIELDS),
  "compute-apps": parseNvidiaComputeApps,
  banner: parseNvidiaBanner,
  list: parseNvidiaList,
  topo: parseNvidiaTopology,
  table: parseNvidiaTable,
  "amd-smi static": parseAmdSmiStatic,
  "amd-smi list": parseAmdSmiList,
  "amd-smi metric": parseAmdSmiMetric,
  "amd-smi version": parseAmdSmiVersion,
  "rocm-smi": parseRocmSmi,
};

const CAPTURES: Record<string, string> = {
  "query-gpu": "nvidia/h100-sxm-8x-565/query-gpu.csv",
  "compute-apps": "nvidia/h100-mig-590-load/compute-apps.csv",
  banner: "nvidia/h100-mig-590-load/banner.txt",
  list: "nvidia/h200-mig-590-idle/list.txt",
  topo: "nvidia/topo/rtx4090-8x-sys.txt",
  table: "nvidia/rtx4080super-595-load/banner.txt",
  "amd-smi static": "amd/mi300x-8x-rocm721-nonroot/static.txt",
  "amd-smi list": "amd/mi300x-8x-rocm721/static.json",
  "amd-smi metric": "amd/mi300x-8x-rocm721/static.json",
  "amd-smi version": "amd/mi300x-8x-rocm721/version.json",
  "rocm-smi": "amd/rocm-smi/mi100-4x-rocm602.json",
};

function isTypedResult(result: Parsed<unknown>): boolean {
  return result.ok ? result.value !== undefined : typeof result.error === "string" && result.error.length > 0;
}

interface Damage {
  at: number;
  cut: number;
  insert: string;
  doubleLine: boolean;
}

/** A random edit of a capture: cut a span, then insert random text at a position. */
const damage = fc.record({
  at: fc.nat(),
  cut: fc.nat({ max: 80 }),
  insert: fc.string({ unit: "binary", maxLength: 40 }),
  doubleLine: fc.boolean(),
});

function applyDamage(text: string, edit: Damage) {
  const at = text.length === 0 ? 0 : edit.at % text.length;
  let damaged = text.slice(0, at) + edit.insert + text.slice(at + edit.cut);
  if (edit.doubleLine) {
    const lines = damaged.split("\n");
    const line = lines[at % Math.max(lines.length, 1)] ?? "";
    damaged = [...lines, line].join("\n");
  }
  return damaged;
}

describe("every parser returns a result or a typed error", () => {
  for (const [name, parse] of Object.entries(TEXT_PARSERS)) {
    it(`${name}: on random text`, () => {
      fc.assert(
        fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => isTypedResult(parse(text))),
        { numRuns: 300 },
      );
    });

    it(`${name}: on a damaged real capture`, () => {
      const capture = readFixture(CAPTURES[name] ?? "");
      fc.assert(
        fc.property(damage, (edit) => isTypedResult(parse(applyDamage(capture, edit)))),
        { numRuns: 300 },
      );
    });
  }

  for (const name of ["amd-smi static", "amd-smi list", "amd-smi metric", "amd-smi version", "rocm-smi"]) {
    it(`${name}: on any JSON document`, () => {
      const parse = TEXT_PARSERS[name];
      if (parse === undefined) throw new Error(name);
      fc.assert(
        fc.property(fc.jsonValue(), (value) => isTypedResult(parse(JSON.stringify(value, null, 2)))),
        { numRuns: 300 },
      );
    });
  }
});

describe("query-gpu CSV round trip", () => {
  const cell = fc.oneof(
    fc.constantFrom("[N/A]", "[Not Supported]", "N/A"),
    fc.nat({ max: 200_000 }).map(String),
    fc.double({ min: 0, max: 2000, noNaN: true }).map((value) => value.toFixed(2)),
  );
  const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 -]{0,30}[A-Za-z0-9]$/);
  const row = fc.record({ name, memory: cell, power: cell });

  it("reads back the values written, with N/A cells as null", () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 8 }), (rows) => {
        const text = rows.map((r, index) => `${index}, ${r.name}, ${r.memory}, ${r.power}`).join("\n");
        const parsed = parseNvidiaGpuQuery(text, ["index", "name", "memory.total", "power.draw"]);
        if (!parsed.ok) return false;
        return parsed.value.every((gpu, index) => {
          const source = rows[index];
          if (source === undefined) return false;
          const memory = /^\d/.test(source.memory) ? Number(source.memory) : null;
          const power = /^\d/.test(source.power) ? Number(source.power) : null;
          return (
            gpu.index === index &&
            gpu.name === source.name &&
            gpu.memoryTotalMiB === memory &&
            gpu.powerDrawW === power
          );
        });
      }),
    );
  });

  it("reads any bracketed note as null and never as 0", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }),
        (inside) => readSmiNumber(`[${inside.replaceAll("]", "")}]`) === null,
      ),
    );
  });
});

describe("CUDA_VISIBLE_DEVICES over any value", () => {
  const devices = [0, 1, 2, 3].map((index) => ({ index, ids: [`GPU-${index}abc0000-0000`] }));
  const token = fc.oneof(
    fc.integer({ min: -2, max: 6 }).map(String),
    fc.constantFrom("GPU-0abc", "GPU-3", "GPU-", "MIG-1", "", " 1 ", "x"),
  );

  it("yields distinct existing GPUs numbered 0..n-1 in order", () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 8 }), (tokens) => {
        const result = resolveNvidiaVisibility(devices, { CUDA_VISIBLE_DEVICES: tokens.join(",") });
        const indices = result.devices.map((device) => device.index);
        expect(new Set(indices).size).toBe(indices.length);
        expect(indices.every((index) => index >= 0 && index <= 3)).toBe(true);
        expect(result.devices.map((device) => device.visibleIndex)).toEqual(indices.map((_, i) => i));
      }),
    );
  });
});
