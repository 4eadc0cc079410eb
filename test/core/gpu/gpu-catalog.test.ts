import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { GpuSpecSchema, tokenizeGpuName } from "../../../src/core/gpu/index.js";
import { GPU_DATA_DIR, listGpuDataFiles, loadBuiltinGpus, readGpuDataFile } from "./builtin-catalog.js";

const catalog = loadBuiltinGpus();
const byId = new Map(catalog.map((entry) => [entry.id, entry]));

/** The models the catalog must cover (ids), from the project brief. */
const REQUIRED_IDS = [
  "t4",
  "v100-sxm2-16gb",
  "v100-sxm2-32gb",
  "a10",
  "a10g",
  "a30",
  "a40",
  "l4",
  "l40",
  "l40s",
  "a100-pcie-40gb",
  "a100-sxm4-40gb",
  "a100-pcie-80gb",
  "a100-sxm4-80gb",
  "h100-pcie",
  "h100-sxm",
  "h100-nvl",
  "h200",
  "h200-nvl",
  "h20",
  "gh200-96gb",
  "gh200-144gb",
  "b200",
  "rtx-3090",
  "rtx-4090",
  "rtx-5090",
  "rtx-a6000",
  "rtx-6000-ada",
  "rtx-pro-6000-blackwell",
  "mi210",
  "mi250x",
  "mi300x",
  "mi300a",
  "mi308x",
  "mi325x",
  "mi350x",
  "mi355x",
  "radeon-pro-w7900",
  "radeon-rx-7900-xtx",
];

function spellings(entry: (typeof catalog)[number]): string[] {
  return [entry.id, entry.name, ...entry.aliases];
}

/** Maps each key to the entries that produce it; returns the keys produced by more than one entry. */
function collisions(keyOf: (spelling: string) => string): string[] {
  const owners = new Map<string, Set<string>>();
  for (const entry of catalog) {
    for (const spelling of spellings(entry)) {
      const key = keyOf(spelling);
      owners.set(key, (owners.get(key) ?? new Set()).add(entry.id));
    }
  }
  return [...owners].filter(([, ids]) => ids.size > 1).map(([key, ids]) => `${key}: ${[...ids].join(", ")}`);
}

describe("data/gpus catalog", () => {
  it.each(listGpuDataFiles())("%s: every entry validates against GpuSpecSchema", (file) => {
    const raw = readGpuDataFile(file);
    expect(Array.isArray(raw), `${file} must be a YAML list`).toBe(true);
    for (const [index, item] of (raw as unknown[]).entries()) {
      const result = GpuSpecSchema.safeParse(item);
      expect(result.success, `${file} entry ${index}: ${result.error?.message ?? ""}`).toBe(true);
    }
  });

  it("has at least 38 GPUs with unique ids, covering NVIDIA and AMD", () => {
    expect(catalog.length).toBeGreaterThanOrEqual(38);
    expect(byId.size).toBe(catalog.length);
    expect(catalog.some((entry) => entry.vendor === "amd")).toBe(true);
    expect(catalog.some((entry) => entry.vendor === "nvidia")).toBe(true);
  });

  it("contains every required model", () => {
    expect(REQUIRED_IDS.filter((id) => !byId.has(id))).toEqual([]);
  });

  it("has no id / name / alias spelled the same by two entries (case-insensitive)", () => {
    expect(collisions((spelling) => spelling.toLowerCase())).toEqual([]);
  });

  it("has no two entries that look the same once brand words, punctuation and order are ignored", () => {
    expect(collisions((spelling) => tokenizeGpuName(spelling).join(""))).toEqual([]);
    expect(collisions((spelling) => [...tokenizeGpuName(spelling)].sort().join(" "))).toEqual([]);
  });

  it.each(catalog.map((entry) => [entry.id, entry] as const))(
    "%s: dense figures are consistent",
    (_id, entry) => {
      const { tflops } = entry;
      expect(tflops.fp8 === null, "fp8 TFLOPS must be null exactly when fp8 is false").toBe(!entry.fp8);
      expect(tflops.fp16).toBeGreaterThanOrEqual(tflops.fp32);
      if (tflops.bf16 !== null) expect(tflops.bf16).toBeGreaterThanOrEqual(tflops.fp32);
      if (tflops.int8 !== null) expect(tflops.int8).toBeGreaterThanOrEqual(tflops.fp16);
      if (tflops.fp8 !== null) expect(tflops.fp8).toBeGreaterThanOrEqual(tflops.fp16);
      if (tflops.fp4 !== null) expect(tflops.fp4).toBeGreaterThanOrEqual(tflops.fp8 ?? tflops.fp16);
    },
  );

  it.each(catalog.map((entry) => [entry.id, entry] as const))(
    "%s: memory figures are consistent",
    (_id, entry) => {
      const { marketedGB, runtimeGiB, smiTotalMiB, runtimeBasis, runtimeSource } = entry.memory;
      // Vendors' "80 GB" of HBM/GDDR is 80 GiB of chips, so the runtime total can exceed 80e9 bytes
      // (H100: 79.19 GiB = 85.0e9 B) but never the marketed number read as GiB.
      expect(runtimeGiB).toBeLessThanOrEqual(marketedGB);
      expect(runtimeGiB).toBeGreaterThan((0.75 * marketedGB * 1e9) / 2 ** 30);
      if (smiTotalMiB !== null) expect(runtimeGiB).toBeLessThanOrEqual(smiTotalMiB / 1024 + 0.01);
      if (runtimeBasis === "measured") expect(runtimeSource).toMatch(/https:\/\//);
      expect(entry.source).toMatch(/^https:\/\//);
    },
  );

  it.each(catalog.map((entry) => [entry.id, entry] as const))(
    "%s: fp8 flag matches the architecture",
    (_id, entry) => {
      if (entry.vendor === "nvidia") {
        expect(entry.computeCapability).not.toBeNull();
        expect(entry.gfxTarget).toBeNull();
        const [major = 0, minor = 0] = (entry.computeCapability ?? "0.0").split(".").map(Number);
        expect(entry.fp8).toBe(major * 10 + minor >= 89);
      } else {
        expect(entry.gfxTarget).not.toBeNull();
        expect(entry.computeCapability).toBeNull();
        expect(entry.fp8).toBe(/^gfx9[45]/.test(entry.gfxTarget ?? ""));
      }
    },
  );

  it("uses the right gfx targets for AMD parts", () => {
    const gfx = Object.fromEntries(catalog.filter((e) => e.vendor === "amd").map((e) => [e.id, e.gfxTarget]));
    expect(gfx).toMatchObject({
      mi210: "gfx90a",
      mi250x: "gfx90a",
      mi300x: "gfx942",
      mi300a: "gfx942",
      mi308x: "gfx942",
      mi325x: "gfx942",
      mi350x: "gfx950",
      mi355x: "gfx950",
      "radeon-pro-w7900": "gfx1100",
      "radeon-rx-7900-xtx": "gfx1100",
    });
  });

  it("keeps the known anchors: totals the tools print", () => {
    expect(byId.get("h100-sxm")?.memory).toMatchObject({ runtimeGiB: 79.19, smiTotalMiB: 81559 });
    expect(byId.get("a100-sxm4-80gb")?.memory.smiTotalMiB).toBe(81920);
    expect(byId.get("rtx-4090")?.memory.smiTotalMiB).toBe(24564);
    expect(byId.get("rtx-3090")?.memory.smiTotalMiB).toBe(24576);
    expect(byId.get("t4")?.memory.smiTotalMiB).toBe(15360);
    expect(byId.get("mi300x")?.memory.smiTotalMiB).toBe(196592);
    expect(byId.get("h100-nvl")?.memory.marketedGB).toBe(94);
    expect(byId.get("h200")?.memory.marketedGB).toBe(141);
  });

  it("documents a user GPU file that validates (data/gpus/README.md example)", () => {
    const readme = readFileSync(join(GPU_DATA_DIR, "README.md"), "utf8");
    const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const entries = GpuSpecSchema.array().parse(parse(example ?? ""));
    expect(entries.map((entry) => entry.id)).toEqual(["rtx-4000-ada"]);
    expect(byId.has("rtx-4000-ada")).toBe(false);
  });
});
