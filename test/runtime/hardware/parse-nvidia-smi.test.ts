import { describe, expect, it } from "vitest";
import {
  NVIDIA_GPU_FIELDS,
  parseInvalidQueryField,
  parseNvidiaBanner,
  parseNvidiaComputeApps,
  parseNvidiaCsv,
  parseNvidiaGpuQuery,
} from "../../../src/runtime/hardware/parse-nvidia-smi.js";
import { readFixture } from "./fixtures.js";

function gpusOf(path: string) {
  const parsed = parseNvidiaGpuQuery(readFixture(path), NVIDIA_GPU_FIELDS);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

describe("parseNvidiaGpuQuery on captures", () => {
  it("reads an H100 in MIG mode under load, with [N/A] utilisation as null", () => {
    const [gpu, ...rest] = gpusOf("nvidia/h100-mig-590-load/query-gpu.csv");
    expect(rest).toHaveLength(0);
    expect(gpu).toMatchObject({
      vendor: "nvidia",
      index: 0,
      uuid: "GPU-00000000-0000-0000-0000-000000000000",
      name: "NVIDIA H100 80GB HBM3",
      memoryTotalMiB: 81559,
      memoryUsedMiB: 11125,
      memoryFreeMiB: 69956,
      utilizationPercent: null,
      temperatureC: 53,
      powerDrawW: 433.78,
      powerLimitW: 700,
      computeCapability: "9.0",
      pciBusId: "00000000:00:09.0",
      mig: { enabled: true, devices: [] },
      driverVersion: "590.48.01",
    });
    expect(gpu?.raw?.["memory.total"]).toBe("81559");
    expect(gpu?.raw?.["mig.mode.current"]).toBe("Enabled");
  });

  it("reads the 8 GPUs of an H100 SXM box in index order with distinct UUIDs", () => {
    const gpus = gpusOf("nvidia/h100-sxm-8x-565/query-gpu.csv");
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(gpus.map((gpu) => gpu.uuid)).size).toBe(8);
    expect(gpus.every((gpu) => gpu.memoryTotalMiB === 81559 && gpu.mig.enabled === false)).toBe(true);
    expect(gpus[7]).toMatchObject({
      uuid: "GPU-33135771-a848-ece1-b61e-489e221d663c",
      pciBusId: "00000000:DB:00.0",
    });
  });

  it("reads 8 RTX 4090s whose MIG mode is [N/A] as unknown, not disabled", () => {
    const gpus = gpusOf("nvidia/rtx4090-8x-550/query-gpu.csv");
    expect(gpus).toHaveLength(8);
    expect(gpus[0]).toMatchObject({
      name: "NVIDIA GeForce RTX 4090",
      memoryTotalMiB: 24564,
      computeCapability: "8.9",
    });
    expect(gpus.every((gpu) => gpu.mig.enabled === null)).toBe(true);
  });

  it.each([
    ["nvidia/l40s-595-idle/query-gpu.csv", "NVIDIA L40S", 46068, "8.9", 350],
    ["nvidia/h200-mig-590-idle/query-gpu.csv", "NVIDIA H200", 143771, "9.0", 700],
    ["nvidia/rtx4080super-595-load/query-gpu.csv", "NVIDIA GeForce RTX 4080 SUPER", 16376, "8.9", 320],
    ["nvidia/h100-80gb-590-load/query-gpu.csv", "NVIDIA H100 80GB HBM3", 81559, "9.0", 700],
    ["nvidia/a100-sxm4-4x-555/query-gpu.csv", "NVIDIA A100-SXM4-80GB", 81920, "8.0", 500],
    ["nvidia/rtx3090-2x-560/query-gpu.csv", "NVIDIA GeForce RTX 3090", 24576, "8.6", 350],
  ])("reads %s", (path, name, memory, computeCapability, powerLimit) => {
    const [gpu] = gpusOf(path);
    expect(gpu).toMatchObject({ name, memoryTotalMiB: memory, computeCapability, powerLimitW: powerLimit });
  });

  it("reads a query with other fields and units left in (4x L40S, driver 570)", () => {
    const text = readFixture("nvidia/l40s-4x-570/query-name-driver-memory-cc.csv");
    const parsed = parseNvidiaGpuQuery(text, ["name", "driver_version", "memory.total", "compute_cap"]);
    expect(
      parsed.ok && parsed.value.map((gpu) => [gpu.index, gpu.memoryTotalMiB, gpu.computeCapability]),
    ).toEqual([
      [0, 46068, "8.9"],
      [1, 46068, "8.9"],
      [2, 46068, "8.9"],
      [3, 46068, "8.9"],
    ]);
    expect(parsed.ok && parsed.value[0]?.driverVersion).toBe("570.172.08");
  });

  it("refuses a row with the wrong number of values, naming the line", () => {
    const parsed = parseNvidiaGpuQuery("0, NVIDIA H100 80GB HBM3, 81559\n", NVIDIA_GPU_FIELDS);
    expect(parsed).toEqual({ ok: false, error: expect.stringMatching(/^line 1 has 3 values, expected 14/) });
  });

  it("refuses a row without a name", () => {
    const parsed = parseNvidiaGpuQuery("0, [N/A]\n", ["index", "name"]);
    expect(parsed.ok).toBe(false);
  });

  it("refuses the NVML version-mismatch message printed in place of CSV", () => {
    const parsed = parseNvidiaGpuQuery(
      readFixture("nvidia/errors/nvml-version-mismatch.txt"),
      NVIDIA_GPU_FIELDS,
    );
    expect(parsed).toEqual({ ok: false, error: expect.stringMatching(/^line 1 has 1 values/) });
  });

  it("reads empty output as no GPUs", () => {
    expect(parseNvidiaGpuQuery("\n", NVIDIA_GPU_FIELDS)).toEqual({ ok: true, value: [] });
  });
});

describe("parseNvidiaCsv", () => {
  it("joins a text column that contained ', ' back together", () => {
    const parsed = parseNvidiaCsv(
      "GPU-1, 42, python train.py --a, --b, 100\n",
      ["gpu_uuid", "pid", "process_name", "used_gpu_memory"],
      "process_name",
    );
    expect(parsed).toEqual({
      ok: true,
      value: [
        { gpu_uuid: "GPU-1", pid: "42", process_name: "python train.py --a, --b", used_gpu_memory: "100" },
      ],
    });
  });
});

describe("parseNvidiaComputeApps", () => {
  it("reads the processes of an H100 under load", () => {
    const parsed = parseNvidiaComputeApps(readFixture("nvidia/h100-mig-590-load/compute-apps.csv"));
    expect(parsed.ok && parsed.value).toEqual([
      {
        gpuUuid: "GPU-00000000-0000-0000-0000-000000000000",
        pid: 21180,
        name: "/root/tools/memhog",
        usedMemoryMiB: 2296,
      },
      {
        gpuUuid: "GPU-00000000-0000-0000-0000-000000000000",
        pid: 21181,
        name: "/root/tools/memhog",
        usedMemoryMiB: 1272,
      },
      {
        gpuUuid: "GPU-00000000-0000-0000-0000-000000000000",
        pid: 21198,
        name: "./gpu_burn",
        usedMemoryMiB: 7484,
      },
    ]);
  });

  it("reads the empty answer of an idle GPU as no processes", () => {
    expect(parseNvidiaComputeApps(readFixture("nvidia/l40s-595-idle/compute-apps.csv"))).toEqual({
      ok: true,
      value: [],
    });
  });

  it("keeps a process whose memory is [N/A] with null memory", () => {
    const parsed = parseNvidiaComputeApps("GPU-1, 7, app, [N/A]\n");
    expect(parsed.ok && parsed.value[0]?.usedMemoryMiB).toBeNull();
  });
});

describe("parseInvalidQueryField", () => {
  it("names the field an old driver rejects", () => {
    expect(parseInvalidQueryField(readFixture("nvidia/errors/compute-cap-invalid.txt"))).toBe("compute_cap");
  });

  it("returns null for other failures", () => {
    expect(parseInvalidQueryField(readFixture("nvidia/errors/driver-not-loaded.txt"))).toBeNull();
  });
});

describe("parseNvidiaBanner", () => {
  it.each([
    ["nvidia/h100-mig-590-load/banner.txt", "590.48.01", "590.48.01", "13.1"],
    ["nvidia/h100-sxm-8x-565/banner.txt", "565.57.01", "565.57.01", "12.7"],
    ["nvidia/l40s-4x-570/banner.txt", "570.172.08", "570.172.08", "12.8"],
    ["nvidia/other/t4-450-banner.txt", "450.66", "418.67", "10.1"],
  ])("reads the versions in %s", (path, smiVersion, driverVersion, cudaVersion) => {
    expect(parseNvidiaBanner(readFixture(path))).toEqual({
      ok: true,
      value: { smiVersion, driverVersion, cudaVersion },
    });
  });

  it("reports an error for the driver-not-loaded message", () => {
    expect(parseNvidiaBanner(readFixture("nvidia/errors/driver-not-loaded.txt")).ok).toBe(false);
  });
});
