import { describe, expect, it } from "vitest";
import { parseNvidiaTable } from "../../../src/runtime/hardware/parse-nvidia-table.js";
import { readFixture } from "./fixtures.js";

function tableOf(path: string) {
  const parsed = parseNvidiaTable(readFixture(path));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

describe("parseNvidiaTable", () => {
  it("reads the 8 GPUs of the H100 SXM box", () => {
    const { gpus, processes } = tableOf("nvidia/h100-sxm-8x-565/banner.txt");
    expect(gpus).toHaveLength(8);
    expect(gpus[0]).toEqual({
      index: 0,
      name: "NVIDIA H100 80GB HBM3",
      nameTruncated: false,
      pciBusId: "00000000:18:00.0",
      temperatureC: 30,
      powerDrawW: 100,
      powerLimitW: 700,
      memoryUsedMiB: 1,
      memoryTotalMiB: 81559,
      utilizationPercent: 0,
      migEnabled: false,
    });
    expect(processes).toEqual([]);
  });

  it("reads MIG mode Enabled and N/A utilisation on an H100 in MIG mode", () => {
    const { gpus } = tableOf("nvidia/h100-mig-590-load/banner.txt");
    expect(gpus).toHaveLength(1);
    expect(gpus[0]).toMatchObject({ migEnabled: true, utilizationPercent: null, memoryTotalMiB: 81559 });
  });

  it("flags a truncated name and reads the process rows of a desktop GPU", () => {
    const { gpus, processes } = tableOf("nvidia/rtx4080super-595-load/banner.txt");
    expect(gpus[0]).toMatchObject({
      name: "NVIDIA GeForce RTX 4080 ...",
      nameTruncated: true,
      migEnabled: null,
    });
    expect(processes).toHaveLength(7);
    expect(processes[0]).toEqual({
      gpuIndex: 0,
      pid: 2165,
      name: "/usr/bin/kwin_wayland",
      usedMemoryMiB: 25,
    });
    expect(processes[6]).toEqual({ gpuIndex: 0, pid: 5022, name: "ffmpeg", usedMemoryMiB: 503 });
  });

  it("reads the pre-530 layout of a Tesla T4 table", () => {
    const { gpus } = tableOf("nvidia/other/t4-450-banner.txt");
    expect(gpus).toEqual([
      {
        index: 0,
        name: "Tesla T4",
        nameTruncated: false,
        pciBusId: "00000000:00:04.0",
        temperatureC: 77,
        powerDrawW: 68,
        powerLimitW: 70,
        memoryUsedMiB: 163,
        memoryTotalMiB: 15079,
        utilizationPercent: 95,
        migEnabled: null,
      },
    ]);
  });

  it.each([
    ["nvidia/l40s-4x-570/banner.txt", 4, "NVIDIA L40S", 46068],
    ["nvidia/rtx4090-8x-550/banner.txt", 8, "NVIDIA GeForce RTX 4090", 24564],
    ["nvidia/a100-sxm4-4x-555/banner.txt", 4, "NVIDIA A100-SXM4-80GB", 81920],
    ["nvidia/h200-mig-590-idle/banner.txt", 1, "NVIDIA H200", 143771],
  ])("reads %s", (path, count, name, memory) => {
    const { gpus } = tableOf(path);
    expect(gpus).toHaveLength(count);
    expect(gpus.every((gpu) => gpu.name === name && gpu.memoryTotalMiB === memory)).toBe(true);
  });

  it("refuses text without GPU rows", () => {
    expect(parseNvidiaTable(readFixture("nvidia/errors/driver-not-loaded.txt")).ok).toBe(false);
  });
});
