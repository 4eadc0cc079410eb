/**
 * detectGpus end to end: real processes (the fake tools in test/fixtures/hardware/bin replaying
 * captures per scenario), real time limits, real exit codes.
 */
import { describe, expect, it } from "vitest";
import { isServepilotError } from "../../../src/core/errors.js";
import { detectGpus } from "../../../src/runtime/hardware/index.js";
import type { DetectGpusOptions } from "../../../src/runtime/hardware/types.js";
import { fakeBin, HARDWARE_FIXTURES, scenario } from "./fixtures.js";

const MISSING = `${HARDWARE_FIXTURES}bin/not-installed`;

/** NVIDIA fakes on a machine without AMD tools, unless `amd` says otherwise. */
function options(name: string, extraEnv: NodeJS.ProcessEnv = {}, amd = false): DetectGpusOptions {
  return {
    env: { PATH: process.env.PATH, FAKE_SMI_SCENARIO: scenario(name), ...extraEnv },
    bins: {
      nvidiaSmi: amd ? MISSING : fakeBin("fake-nvidia-smi"),
      amdSmi: amd ? fakeBin("fake-amd-smi") : MISSING,
      rocmSmi: amd ? fakeBin("fake-rocm-smi") : MISSING,
    },
  };
}

describe("detectGpus: tool problems are values", () => {
  it("reports every tool as not found on a machine without GPU tools", async () => {
    const result = await detectGpus({
      env: { PATH: process.env.PATH },
      bins: { nvidiaSmi: MISSING, amdSmi: MISSING, rocmSmi: MISSING },
    });
    expect(result.gpus).toEqual([]);
    expect(result.tools.map((tool) => [tool.tool, tool.status])).toEqual([
      ["nvidia-smi", "not-found"],
      ["amd-smi", "not-found"],
      ["rocm-smi", "not-found"],
    ]);
    expect(result.tools[0]?.message).toMatch(/not-installed was not found/);
    expect(result).toMatchObject({
      driverVersion: null,
      cudaVersion: null,
      rocmVersion: null,
      topology: null,
    });
  });

  it("reports a loaded tool whose driver is not loaded as failed, with its own message", async () => {
    const result = await detectGpus(options("nvidia-driver-not-loaded"));
    expect(result.gpus).toEqual([]);
    expect(result.tools[0]).toEqual({
      tool: "nvidia-smi",
      status: "failed",
      message: expect.stringMatching(
        /^fake-nvidia-smi --query-gpu=.* exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/,
      ),
    });
  });

  it("stops a tool that never answers after timeoutMs and reports a timeout for each", async () => {
    const hang = fakeBin("fake-smi-hang");
    const result = await detectGpus({
      env: { PATH: process.env.PATH },
      timeoutMs: 300,
      bins: { nvidiaSmi: hang, amdSmi: hang, rocmSmi: hang },
    });
    expect(result.gpus).toEqual([]);
    expect(result.tools.map((tool) => tool.status)).toEqual(["timeout", "timeout", "timeout"]);
    expect(result.tools[0]?.message).toMatch(/did not finish within 300 ms/);
  });

  it("falls back to the plain table when the CSV answer is garbage", async () => {
    const result = await detectGpus(options("nvidia-query-garbage"));
    expect(result.tools[0]).toMatchObject({
      status: "unparseable",
      message: expect.stringMatching(/^could not read/),
    });
    expect(result.gpus).toHaveLength(8);
    expect(result.gpus[3]).toMatchObject({
      index: 3,
      visibleIndex: 3,
      name: "NVIDIA H100 80GB HBM3",
      uuid: null,
    });
    expect(result.warnings).toContain(
      "read the GPUs from the plain nvidia-smi table instead; UUIDs and compute capability are unknown",
    );
    expect(result.cudaVersion).toBe("12.7");
  });

  it("reports a tool that cannot be executed as failed", async () => {
    const notExecutable = `${HARDWARE_FIXTURES}SOURCES.md`;
    const result = await detectGpus({
      env: { PATH: process.env.PATH },
      bins: { nvidiaSmi: notExecutable, amdSmi: MISSING, rocmSmi: MISSING },
    });
    expect(result.tools[0]).toEqual({
      tool: "nvidia-smi",
      status: "failed",
      message:
        "SOURCES.md --query-gpu=index,uuid,name,memory.tota… --format=csv,noheader,nounits could not be run: EACCES",
    });
  });

  it("refuses a timeout that is not a positive number", async () => {
    const error = await detectGpus({ timeoutMs: 0 }).catch((caught: unknown) => caught);
    expect(isServepilotError(error) && error.code).toBe("INVALID_ARGUMENT");
  });
});

describe("detectGpus on NVIDIA machines", () => {
  it("reads an 8x H100 SXM box with NVLink between every pair", async () => {
    const result = await detectGpus(options("h100-sxm-8x-nvlink"));
    expect(result.tools[0]).toEqual({ tool: "nvidia-smi", status: "ok", message: null });
    expect(result.gpus).toHaveLength(8);
    expect(result.gpus.map((gpu) => gpu.visibleIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(result.gpus[2]).toMatchObject({
      vendor: "nvidia",
      index: 2,
      uuid: "GPU-2d50cdf6-dd67-9f2e-855e-0d4d6d395a2f",
      name: "NVIDIA H100 80GB HBM3",
      memoryTotalMiB: 81559,
      computeCapability: "9.0",
      gfxTarget: null,
      mig: { enabled: false, devices: [] },
      processes: [],
    });
    expect(result).toMatchObject({ driverVersion: "565.57.01", cudaVersion: "12.7", rocmVersion: null });
    expect(result.topology?.allNvlink).toBe(true);
    expect(result.topology?.pairs).toHaveLength(28);
    expect(result.warnings).toEqual([]);
  });

  it("keeps only the GPUs CUDA_VISIBLE_DEVICES names, in its order, with their own topology", async () => {
    const result = await detectGpus(options("h100-sxm-8x-nvlink", { CUDA_VISIBLE_DEVICES: "5,4" }));
    expect(result.gpus.map((gpu) => [gpu.index, gpu.visibleIndex])).toEqual([
      [5, 0],
      [4, 1],
    ]);
    expect(result.topology).toEqual({
      matrix: { GPU4: { GPU4: "X", GPU5: "NV18" }, GPU5: { GPU4: "NV18", GPU5: "X" } },
      allNvlink: true,
      pairs: [{ a: 4, b: 5, link: "NV18", kind: "nvlink", nvlinks: 18 }],
    });
  });

  it("reads an 8x RTX 4090 box whose GPUs are joined over PCIe only", async () => {
    const result = await detectGpus(options("rtx4090-8x-pcie"));
    expect(result.gpus).toHaveLength(8);
    expect(result.topology?.allNvlink).toBe(false);
    expect(result.topology?.pairs.every((pair) => pair.link === "SYS")).toBe(true);
    expect(result.gpus.every((gpu) => gpu.mig.enabled === null)).toBe(true);
  });

  it("reads an H100 in MIG mode with its MIG devices and processes, and warns about MIG", async () => {
    const result = await detectGpus(options("h100-mig-single"));
    const [gpu] = result.gpus;
    expect(gpu?.mig.enabled).toBe(true);
    expect(gpu?.mig.devices.map((device) => device.profile)).toEqual([
      "3g.40gb",
      "2g.20gb",
      "1g.10gb",
      "1g.10gb",
    ]);
    expect(gpu?.processes.map((process) => process.pid)).toEqual([21180, 21181, 21198]);
    expect(gpu?.utilizationPercent).toBeNull();
    expect(result.topology).toEqual({ matrix: { GPU0: { GPU0: "X" } }, allNvlink: null, pairs: [] });
    expect(result.warnings).toEqual([
      "GPU 0 is in MIG mode: CUDA sees its MIG devices, not the whole GPU; select one with CUDA_VISIBLE_DEVICES=MIG-…",
    ]);
  });

  it("reads one H100 under load with its three processes and no warning", async () => {
    const result = await detectGpus(options("h100-80gb-single"));
    expect(result.gpus[0]?.processes).toEqual([
      { pid: 11327, name: "/root/tools/memhog", usedMemoryMiB: 2566 },
      { pid: 11328, name: "/root/tools/memhog", usedMemoryMiB: 1542 },
      { pid: 11345, name: "./gpu_burn", usedMemoryMiB: 15690 },
    ]);
    expect(result.gpus[0]).toMatchObject({
      utilizationPercent: 100,
      powerDrawW: 631.95,
      mig: { enabled: false },
    });
    expect(result.warnings).toEqual([]);
  });

  it("narrows a MIG GPU to the slice CUDA_VISIBLE_DEVICES names", async () => {
    const result = await detectGpus(
      options("h100-mig-single", { CUDA_VISIBLE_DEVICES: "MIG-00000002-0000-0000-0000-000000000002" }),
    );
    expect(result.gpus).toHaveLength(1);
    expect(result.gpus[0]?.mig.devices).toEqual([
      { profile: "1g.10gb", index: 2, uuid: "MIG-00000002-0000-0000-0000-000000000002" },
    ]);
    expect(result.warnings[0]).toMatch(/^visible device 0 is MIG slice 1g.10gb of GPU 0/);
  });

  it("asks an old driver again without the fields it rejects, and reports the rest as partial", async () => {
    const result = await detectGpus(options("rtx3090-2x-old-driver"));
    expect(result.tools[0]?.status).toBe("ok");
    expect(
      result.gpus.map((gpu) => [gpu.name, gpu.memoryTotalMiB, gpu.computeCapability, gpu.mig.enabled]),
    ).toEqual([
      ["NVIDIA GeForce RTX 3090", 24576, null, null],
      ["NVIDIA GeForce RTX 3090", 24576, null, null],
    ]);
    expect(result.topology).toBeNull();
    expect(result.warnings).toEqual([
      'nvidia-smi does not know the field "compute_cap" (older driver); it is reported as null',
      'nvidia-smi does not know the field "mig.mode.current" (older driver); it is reported as null',
      expect.stringMatching(/^GPU interconnect unknown: fake-nvidia-smi topo -m exited with code 2/),
    ]);
  });
});

describe("detectGpus on AMD machines", () => {
  it("reads an 8x MI300X box through amd-smi, with the usage it could not get as warnings", async () => {
    const result = await detectGpus(options("amd-mi300x-8x-amd-smi", {}, true));
    expect(result.tools.map((tool) => [tool.tool, tool.status])).toEqual([
      ["nvidia-smi", "not-found"],
      ["amd-smi", "ok"],
    ]);
    expect(result.gpus).toHaveLength(8);
    expect(result.gpus[0]).toMatchObject({
      vendor: "amd",
      index: 0,
      visibleIndex: 0,
      name: "AMD Instinct MI300X",
      gfxTarget: "gfx942",
      memoryTotalMiB: 196592,
      memoryUsedMiB: null,
      powerLimitW: 750,
      pciBusId: "0000:1b:00.0",
    });
    expect(result).toMatchObject({
      driverVersion: "6.16.13",
      rocmVersion: "7.2.1",
      cudaVersion: null,
      topology: null,
    });
    expect(result.warnings).toEqual([
      expect.stringMatching(/^AMD GPU UUIDs unknown: fake-amd-smi list --json exited with code 2/),
      expect.stringMatching(/^AMD GPU usage unknown: fake-amd-smi metric --json exited with code 2/),
    ]);
  });

  it("orders AMD GPUs by HIP_VISIBLE_DEVICES", async () => {
    const result = await detectGpus(options("amd-mi300x-8x-amd-smi", { HIP_VISIBLE_DEVICES: "7,0" }, true));
    expect(result.gpus.map((gpu) => [gpu.index, gpu.visibleIndex, gpu.pciBusId])).toEqual([
      [7, 0, "0000:dd:00.0"],
      [0, 1, "0000:1b:00.0"],
    ]);
  });

  it("keeps amd-smi's board names when it lacks device access, and says why values are null", async () => {
    const result = await detectGpus(options("amd-mi300x-8x-nonroot", {}, true));
    expect(result.gpus).toHaveLength(8);
    expect(
      result.gpus.every((gpu) => gpu.name === "AMD Instinct MI300X OAM" && gpu.memoryTotalMiB === null),
    ).toBe(true);
    expect(result.rocmVersion).toBe("7.2.1");
    expect(result.driverVersion).toBeNull();
    expect(result.warnings[0]).toBe(
      'amd-smi: Permission needed to access required GPU device node(s): (values that need device access are null; add the user to the group it names, usually "render")',
    );
  });

  it("falls back from a missing amd-smi to rocm-smi (4x MI100) and honours ROCR + HIP visibility", async () => {
    const result = await detectGpus({
      ...options("amd-mi100-4x-rocm-smi", { ROCR_VISIBLE_DEVICES: "1,2,3", HIP_VISIBLE_DEVICES: "1" }, true),
      bins: { nvidiaSmi: MISSING, amdSmi: MISSING, rocmSmi: fakeBin("fake-rocm-smi") },
    });
    expect(result.tools.map((tool) => [tool.tool, tool.status])).toEqual([
      ["nvidia-smi", "not-found"],
      ["amd-smi", "not-found"],
      ["rocm-smi", "ok"],
    ]);
    expect(result.gpus).toEqual([
      expect.objectContaining({
        vendor: "amd",
        index: 2,
        visibleIndex: 0,
        uuid: "GPU-d4a9ec48d03d261d",
        name: "Arcturus GL-XL [Instinct MI100]",
        memoryTotalMiB: 32752,
        memoryFreeMiB: 32745.56,
        pciBusId: "0000:C3:00.0",
      }),
    ]);
    expect(result.driverVersion).toBe("6.3.6");
  });

  it("falls back to rocm-smi when amd-smi fails, and reports both when both fail", async () => {
    const result = await detectGpus({
      ...options("amd-mi100-4x-rocm-smi", {}, true),
      bins: { nvidiaSmi: MISSING, amdSmi: fakeBin("fake-amd-smi"), rocmSmi: MISSING },
    });
    expect(result.gpus).toEqual([]);
    expect(result.tools).toEqual([
      { tool: "nvidia-smi", status: "not-found", message: expect.any(String) },
      { tool: "amd-smi", status: "failed", message: expect.stringMatching(/exited with code 98/) },
      { tool: "rocm-smi", status: "not-found", message: expect.any(String) },
    ]);
  });
});
