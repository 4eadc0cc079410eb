import { describe, expect, it } from "vitest";
import { fakeToolsEnv } from "../helpers/fake-gpu-tools.js";
import { runCli } from "../helpers/run-cli.js";

describe("servepilot detect", () => {
  it("lists an 8 x H100 NVLink box matched to the catalog", () => {
    const result = runCli(["detect", "--json"], fakeToolsEnv("h100-sxm-8x-nvlink.json"));
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data.gpus).toHaveLength(8);
    expect(data.gpus.every((gpu: { catalogId: string }) => gpu.catalogId === "h100-sxm")).toBe(true);
    expect(data.topology.allNvlink).toBe(true);
  });

  it("honours CUDA_VISIBLE_DEVICES", () => {
    const result = runCli(
      ["detect", "--json"],
      fakeToolsEnv("h100-sxm-8x-nvlink.json", { CUDA_VISIBLE_DEVICES: "6,2" }),
    );
    const gpus = result.json().data.gpus;
    expect(gpus.map((gpu: { index: number; visibleIndex: number }) => [gpu.index, gpu.visibleIndex])).toEqual(
      [
        [6, 0],
        [2, 1],
      ],
    );
  });

  it("reads MI300X through amd-smi", () => {
    const result = runCli(["detect", "--json"], fakeToolsEnv("amd-mi300x-8x-amd-smi.json"));
    expect(result.code).toBe(0);
    const gpus = result.json().data.gpus;
    expect(gpus).toHaveLength(8);
    expect(gpus[0]).toMatchObject({ vendor: "amd", gfxTarget: "gfx942", catalogId: "mi300x" });
  });

  it("prints a human table", () => {
    const result = runCli(["detect"], fakeToolsEnv("rtx4090-8x-pcie.json"));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("rtx-4090");
    expect(result.stdout).toContain("not all GPU pairs are NVLink-connected");
  });

  it("exits 3 with GPU_DETECTION_FAILED when no GPU tool exists", () => {
    const result = runCli(["detect", "--json"], fakeToolsEnv(null));
    expect(result.code).toBe(3);
    const error = result.json().error;
    expect(error.code).toBe("GPU_DETECTION_FAILED");
    expect(error.message).toContain("nvidia-smi: not-found");
  });

  it("exits 3 when the NVIDIA driver is not loaded", () => {
    const result = runCli(["detect"], fakeToolsEnv("nvidia-driver-not-loaded.json"));
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/nvidia-smi: failed/);
  });
});
