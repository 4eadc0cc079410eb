import { describe, expect, it } from "vitest";
import {
  parseAmdSmiList,
  parseAmdSmiMetric,
  parseAmdSmiStatic,
  parseAmdSmiVersion,
} from "../../../src/runtime/hardware/parse-amd-smi.js";
import { normaliseGfxVersion, parseRocmSmi } from "../../../src/runtime/hardware/parse-rocm-smi.js";
import { readFixture } from "./fixtures.js";

describe("parseAmdSmiStatic", () => {
  it("reads the 8 MI300X of a ROCm 7.2.1 box ({gpu_data: [...]} shape)", () => {
    const parsed = parseAmdSmiStatic(readFixture("amd/mi300x-8x-rocm721/static.json"));
    if (!parsed.ok) throw new Error(parsed.error);
    const { gpus, preamble } = parsed.value;
    expect(preamble).toBeNull();
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus[0]).toEqual({
      index: 0,
      name: "AMD Instinct MI300X",
      gfxTarget: "gfx942",
      pciBusId: "0000:1b:00.0",
      asicSerial: "0x28246CE5673B4AA0",
      memoryTotalMiB: 196592,
      powerLimitW: 750,
      driverVersion: "6.16.13",
      raw: {
        "asic.market_name": "AMD Instinct MI300X",
        "board.product_name": "AMD Instinct MI300X OAM",
        "vram.size": '{"value":196592,"unit":"MB"}',
      },
    });
    expect(gpus[7]?.pciBusId).toBe("0000:dd:00.0");
  });

  it("reads the same box without device access: ASIC fields N/A, board name kept, warning as preamble", () => {
    const parsed = parseAmdSmiStatic(readFixture("amd/mi300x-8x-rocm721-nonroot/static.txt"));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.value.preamble).toMatch(/^Permission needed to access required GPU device node\(s\):/);
    expect(parsed.value.gpus).toHaveLength(8);
    const gpus = parsed.value.gpus;
    expect(
      gpus.every(
        (gpu) => gpu.name === "AMD Instinct MI300X OAM" && gpu.raw["asic.market_name"] === undefined,
      ),
    ).toBe(true);
    expect(
      gpus.every(
        (gpu) => gpu.memoryTotalMiB === null && gpu.gfxTarget === null && gpu.driverVersion === null,
      ),
    ).toBe(true);
    expect(parsed.value.gpus[0]?.pciBusId).toBe("0000:1b:00.0");
  });

  it("reads the bare-array shape of amd-smi before ROCm 7 (vram block from AMD's amd-smi blog)", () => {
    const vram = { type: "HBM", vendor: "N/A", size: { value: 196592, unit: "MB" } };
    const text = JSON.stringify([{ gpu: 0, asic: { market_name: "AMD Instinct MI300X" }, vram }], null, 4);
    const parsed = parseAmdSmiStatic(text);
    expect(parsed.ok && parsed.value.gpus[0]).toMatchObject({
      name: "AMD Instinct MI300X",
      memoryTotalMiB: 196592,
    });
  });

  it("refuses output without JSON, and JSON of another shape", () => {
    expect(parseAmdSmiStatic("amd-smi: command not supported\n")).toEqual({
      ok: false,
      error: 'no JSON in the output: "amd-smi: command not supported"',
    });
    expect(parseAmdSmiStatic('{"card0": {}}').ok).toBe(false);
    expect(parseAmdSmiStatic('[{"asic": {}}]').ok).toBe(false);
  });
});

describe("parseAmdSmiVersion", () => {
  it("reads the ROCm and driver versions", () => {
    expect(parseAmdSmiVersion(readFixture("amd/mi300x-8x-rocm721/version.json"))).toEqual({
      ok: true,
      value: { toolVersion: "26.2.2+e1a6bc5663", rocmVersion: "7.2.1", driverVersion: "6.16.13" },
    });
  });

  it("does not take an error string for a driver version", () => {
    const parsed = parseAmdSmiVersion(readFixture("amd/mi300x-8x-rocm721-nonroot/version.json"));
    expect(parsed.ok && parsed.value).toEqual({
      toolVersion: "26.2.2+e1a6bc5663",
      rocmVersion: "7.2.1",
      driverVersion: null,
    });
  });
});

// amd-smi list / metric: no verbatim JSON capture was found; these use the key names of
// amdsmi_cli/amdsmi_commands.py (ROCm/amdsmi) in the two value forms amd-smi prints.
describe("parseAmdSmiList and parseAmdSmiMetric", () => {
  it("reads list records in the ROCm 7 wrapper", () => {
    const text = JSON.stringify({
      gpu_data: [{ gpu: 0, bdf: "0000:05:00.0", uuid: "afff74a1-0000-1000-8054-e92b0a5d57c8" }],
    });
    expect(parseAmdSmiList(text)).toEqual({
      ok: true,
      value: [{ index: 0, pciBusId: "0000:05:00.0", uuid: "afff74a1-0000-1000-8054-e92b0a5d57c8" }],
    });
  });

  it("reads metric records with {value, unit} objects, plain numbers and N/A", () => {
    const text = JSON.stringify([
      {
        gpu: 0,
        usage: { gfx_activity: { value: 100, unit: "%" } },
        power: { socket_power: { value: 234, unit: "W" } },
        temperature: { edge: "N/A", hotspot: { value: 42, unit: "C" } },
        mem_usage: {
          total_vram: { value: 196592, unit: "MB" },
          used_vram: 7000,
          free_vram: { value: 189592, unit: "MB" },
        },
      },
      { gpu: 1, usage: "N/A", power: { socket_power: "N/A" }, mem_usage: "N/A" },
    ]);
    expect(parseAmdSmiMetric(text)).toEqual({
      ok: true,
      value: [
        {
          index: 0,
          utilizationPercent: 100,
          powerDrawW: 234,
          temperatureC: 42,
          memoryTotalMiB: 196592,
          memoryUsedMiB: 7000,
          memoryFreeMiB: 189592,
        },
        {
          index: 1,
          utilizationPercent: null,
          powerDrawW: null,
          temperatureC: null,
          memoryTotalMiB: null,
          memoryUsedMiB: null,
          memoryFreeMiB: null,
        },
      ],
    });
  });
});

describe("parseRocmSmi", () => {
  it("reads a 4x MI100 box (ROCm 6.0.2, full JSON with a system entry)", () => {
    const parsed = parseRocmSmi(readFixture("amd/rocm-smi/mi100-4x-rocm602.json"));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.value.driverVersion).toBe("6.3.6");
    expect(parsed.value.gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3]);
    expect(parsed.value.gpus[0]).toMatchObject({
      name: "Arcturus GL-XL [Instinct MI100]",
      uniqueId: "0x79ccd55167a2124a",
      gfxTarget: null,
      pciBusId: "0000:83:00.0",
      memoryTotalMiB: 32752,
      memoryUsedMiB: 6.44,
      utilizationPercent: 0,
      temperatureC: 53,
      powerDrawW: 36,
      powerLimitW: 290,
    });
  });

  it("reads a Radeon RX 7900 XT with its gfx target", () => {
    const parsed = parseRocmSmi(readFixture("amd/rocm-smi/rx7900xt-productname-use-meminfo.json"));
    expect(parsed.ok && parsed.value.gpus).toEqual([
      expect.objectContaining({
        index: 0,
        name: "Radeon RX 7900 XT",
        gfxTarget: "gfx1100",
        memoryTotalMiB: 20464,
        memoryUsedMiB: 26.57,
        temperatureC: null,
        powerDrawW: null,
      }),
    ]);
  });

  it("turns rocm-smi's 'gfx9010' for an MI250 into gfx90a, keeping the printed value", () => {
    const parsed = parseRocmSmi(readFixture("amd/rocm-smi/mi250-productname.json"));
    const gpu = parsed.ok ? parsed.value.gpus[0] : undefined;
    expect(gpu?.name).toBe("AMD INSTINCT MI200 (MCM) OAM LC MBA HPE C2");
    expect(gpu?.gfxTarget).toBe("gfx90a");
    expect(gpu?.raw["GFX Version"]).toBe("gfx9010");
  });

  it("gives no name when ROCm 4.3 printed only PCI vendor ids", () => {
    const parsed = parseRocmSmi(readFixture("amd/rocm-smi/rx6700xt-rocm430.json"));
    const gpu = parsed.ok ? parsed.value.gpus[0] : undefined;
    expect(gpu?.name).toBeNull();
    expect(gpu?.raw["Card series"]).toBe("0x1002");
    expect(gpu?.memoryTotalMiB).toBe(12272);
  });

  it("refuses rocm-smi's 'No JSON data' answer and non-object JSON", () => {
    expect(parseRocmSmi("WARNING: No JSON data to report\n").ok).toBe(false);
    expect(parseRocmSmi("[1, 2]").ok).toBe(false);
  });
});

describe("normaliseGfxVersion", () => {
  it.each([
    ["gfx942", "gfx942"],
    ["gfx9010", "gfx90a"],
    ["gfx1100", "gfx1100"],
    ["gfx1030", "gfx1030"],
    ["gfx908", "gfx908"],
    ["gfx90a", "gfx90a"],
    ["GFX1151", "gfx1151"],
    ["N/A", null],
    ["gfx", null],
    ["9010", null],
  ])("%s → %s", (printed, expected) => {
    expect(normaliseGfxVersion(printed)).toBe(expected);
  });
});
