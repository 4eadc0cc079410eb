import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { customGpuFromMemory, GpuSpecSchema, parseMemorySize } from "../../../src/core/gpu/index.js";

const GIB = 2 ** 30;

const UNITS: Record<string, number> = {
  GB: 1e9,
  gb: 1e9,
  g: 1e9,
  G: 1e9,
  GiB: GIB,
  gib: GIB,
  MB: 1e6,
  MiB: 2 ** 20,
  mib: 2 ** 20,
  TB: 1e12,
  TiB: 2 ** 40,
  "": 1e9,
};

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("parseMemorySize", () => {
  it.each([
    ["48GB", 48e9],
    ["48 GB", 48e9],
    ["48gb", 48e9],
    ["48g", 48e9],
    ["80", 80e9],
    ["  80  ", 80e9],
    ["48GiB", 48 * GIB],
    ["48 gib", 48 * GIB],
    ["49152MiB", 48 * GIB],
    ["512MB", 512e6],
    ["1.5TB", 1.5e12],
    ["2TiB", 2 * 2 ** 40],
    [".5GiB", GIB / 2],
    ["79.19GiB", Math.round(79.19 * GIB)],
  ])("%s is %d bytes", (text, bytes) => {
    expect(parseMemorySize(text)).toEqual({ bytes, gib: bytes / GIB });
  });

  it.each([
    "",
    "abc",
    "-5GB",
    "0",
    "0GB",
    "0.0000000001MB",
    "48XB",
    "NaN",
    "Infinity",
    "1e3GB",
    "GB",
    "48 G B",
    "4 8GB",
  ])("refuses %j with INVALID_ARGUMENT naming the flag and the accepted forms", (text) => {
    const error = errorOf(() => parseMemorySize(text, "--vram"));
    expect(error).toBeInstanceOf(ServepilotError);
    expect((error as ServepilotError).code).toBe("INVALID_ARGUMENT");
    expect((error as ServepilotError).message).toContain("--vram");
    expect((error as ServepilotError).message).toContain("49152MiB");
    expect((error as ServepilotError).message).toContain(JSON.stringify(text));
  });

  it("names --gpu-memory by default", () => {
    expect((errorOf(() => parseMemorySize("lots")) as Error).message).toMatch(/^--gpu-memory: /);
  });

  it("round-trips random sizes in every unit within rounding", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 5000, noNaN: true }),
        fc.constantFrom(...Object.keys(UNITS)),
        fc.constantFrom("", " "),
        (value, unit, gap) => {
          const text = `${value.toFixed(3)}${gap}${unit}`;
          const parsed = parseMemorySize(text);
          const expected = Number(value.toFixed(3)) * (UNITS[unit] ?? Number.NaN);
          expect(Math.abs(parsed.bytes - expected)).toBeLessThanOrEqual(0.5 + expected * 1e-12);
          expect(Number.isSafeInteger(parsed.bytes)).toBe(true);
          expect(parsed.gib).toBeCloseTo(parsed.bytes / GIB, 9);
        },
      ),
    );
  });

  it("either parses or throws INVALID_ARGUMENT for any string, never anything else", () => {
    const sizeLike = fc
      .tuple(
        fc.stringMatching(/^-?[0-9.eE+]{0,6}$/),
        fc.constantFrom("", " ", "GB", "gib", "MiB", "XB", "t", "TiB"),
      )
      .map(([number, unit]) => number + unit);
    fc.assert(
      fc.property(fc.oneof(fc.string(), sizeLike), (text) => {
        const error = errorOf(() => {
          const parsed = parseMemorySize(text);
          expect(parsed.bytes).toBeGreaterThan(0);
          expect(Number.isSafeInteger(parsed.bytes)).toBe(true);
        });
        if (error !== undefined) {
          expect(error).toBeInstanceOf(ServepilotError);
          expect((error as ServepilotError).code).toBe("INVALID_ARGUMENT");
        }
      }),
    );
  });
});

describe("customGpuFromMemory", () => {
  it("describes a 48GB GPU as custom-48gb, valid against the catalog schema", () => {
    const gpu = customGpuFromMemory("48GB");
    expect(GpuSpecSchema.parse(gpu)).toEqual(gpu);
    expect(gpu).toMatchObject({ id: "custom-48gb", vendor: "nvidia", fp8: false, computeCapability: null });
    expect(gpu.memory.runtimeGiB).toBeCloseTo(48e9 / GIB, 9);
    expect(gpu.memory.marketedGB).toBe(48);
    expect(gpu.notes).toMatch(/placeholder/i);
  });

  it("names binary sizes in GiB and keeps the vendor", () => {
    const gpu = customGpuFromMemory("49152MiB", "amd");
    expect(gpu).toMatchObject({ id: "custom-48gib", vendor: "amd", gfxTarget: null });
    expect(gpu.memory.runtimeGiB).toBe(48);
    expect(customGpuFromMemory("79.19GiB").id).toBe("custom-79.19gib");
    expect(customGpuFromMemory({ bytes: 24 * GIB, gib: 24 }).id).toBe("custom-24gib");
  });

  it("builds a valid entry for any parsable size", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4_000_000 }),
        fc.constantFrom("MB", "MiB", "GB", "GiB"),
        (n, unit) => {
          const gpu = customGpuFromMemory(`${n}${unit}`);
          expect(GpuSpecSchema.safeParse(gpu).success).toBe(true);
          expect(gpu.memory.runtimeGiB).toBeCloseTo(parseMemorySize(`${n}${unit}`).gib, 9);
        },
      ),
    );
  });

  it("refuses a bad size with INVALID_ARGUMENT", () => {
    expect((errorOf(() => customGpuFromMemory("forty")) as ServepilotError).code).toBe("INVALID_ARGUMENT");
  });
});
