import { describe, expect, it } from "vitest";
import { parseNvidiaList } from "../../../src/runtime/hardware/parse-nvidia-list.js";
import {
  classifyLink,
  parseNvidiaTopology,
  summariseGpuLinks,
} from "../../../src/runtime/hardware/parse-nvidia-topo.js";
import { readFixture } from "./fixtures.js";

describe("parseNvidiaList", () => {
  it("reads an H100 with four MIG devices", () => {
    const parsed = parseNvidiaList(readFixture("nvidia/h100-mig-590-load/list.txt"));
    expect(parsed.ok && parsed.value).toEqual([
      {
        index: 0,
        name: "NVIDIA H100 80GB HBM3",
        uuid: "GPU-00000000-0000-0000-0000-000000000000",
        migDevices: [
          { profile: "3g.40gb", index: 0, uuid: "MIG-00000000-0000-0000-0000-000000000000" },
          { profile: "2g.20gb", index: 1, uuid: "MIG-00000001-0000-0000-0000-000000000001" },
          { profile: "1g.10gb", index: 2, uuid: "MIG-00000002-0000-0000-0000-000000000002" },
          { profile: "1g.10gb", index: 3, uuid: "MIG-00000003-0000-0000-0000-000000000003" },
        ],
      },
    ]);
  });

  it("reads compute-instance profiles of an H200 (1c.3g.71gb)", () => {
    const parsed = parseNvidiaList(readFixture("nvidia/h200-mig-590-idle/list.txt"));
    expect(parsed.ok && parsed.value[0]?.migDevices.map((device) => device.profile)).toEqual([
      "1c.3g.71gb",
      "2c.3g.71gb",
      "2g.35gb",
      "1g.18gb",
      "1g.18gb",
    ]);
  });

  it("attaches MIG devices to the GPU above them on a 4x A100 box with MIG on GPU 0 only", () => {
    const parsed = parseNvidiaList(readFixture("nvidia/other/a100-sxm4-4x-mig-list.txt"));
    expect(parsed.ok && parsed.value.map((gpu) => [gpu.index, gpu.migDevices.length])).toEqual([
      [0, 4],
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    expect(parsed.ok && parsed.value[0]?.migDevices[3]?.uuid).toBe(
      "MIG-930574a9-d43a-5d2b-95da-3e68384c8d6b",
    );
  });

  it("refuses a MIG line with no GPU above it, and other text", () => {
    expect(parseNvidiaList("  MIG 1g.10gb     Device  0: (UUID: MIG-1)\n").ok).toBe(false);
    expect(parseNvidiaList(readFixture("nvidia/errors/driver-not-loaded.txt")).ok).toBe(false);
  });
});

describe("parseNvidiaTopology", () => {
  it("reads an 8x H100 SXM box where every pair has 18 NVLinks", () => {
    const parsed = parseNvidiaTopology(readFixture("nvidia/topo/h100-sxm-8x-nv18.txt"));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.value.devices).toEqual(["GPU0", "GPU1", "GPU2", "GPU3", "GPU4", "GPU5", "GPU6", "GPU7"]);
    const links = summariseGpuLinks(parsed.value, [0, 1, 2, 3, 4, 5, 6, 7]);
    expect(links).toHaveLength(28);
    expect(links.every((link) => link.kind === "nvlink" && link.nvlinks === 18 && link.link === "NV18")).toBe(
      true,
    );
  });

  it("reads an 8x RTX 4090 box with NICs where GPUs talk over PCIe only", () => {
    const parsed = parseNvidiaTopology(readFixture("nvidia/topo/rtx4090-8x-sys.txt"));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.value.devices).toContain("NIC1");
    expect(parsed.value.matrix.GPU6?.NIC0).toBe("PHB");
    expect(parsed.value.matrix.NIC0?.NIC1).toBe("PIX");
    const links = summariseGpuLinks(parsed.value, [0, 1, 2, 3, 4, 5, 6, 7]);
    expect(links).toHaveLength(28);
    expect(links.every((link) => link.kind === "pcie" && link.link === "SYS")).toBe(true);
  });

  it("reads two NVLink-connected GPUs among ten NICs", () => {
    const parsed = parseNvidiaTopology(readFixture("nvidia/topo/a100-2x-nv12-nics.txt"));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.value.devices).toHaveLength(12);
    expect(summariseGpuLinks(parsed.value, [0, 1])).toEqual([
      { a: 0, b: 1, link: "NV12", kind: "nvlink", nvlinks: 12 },
    ]);
  });

  it("reads two GPUs behind one host bridge (PHB), legend included", () => {
    const parsed = parseNvidiaTopology(readFixture("nvidia/topo/rtx5090-2x-phb.txt"));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(summariseGpuLinks(parsed.value, [1, 0])).toEqual([
      { a: 0, b: 1, link: "PHB", kind: "pcie", nvlinks: null },
    ]);
  });

  it("reads a single GPU whose header carries terminal underline escapes", () => {
    const text = readFixture("nvidia/h100-mig-590-load/topo.txt");
    expect(text).toContain("\u001b[4m");
    const parsed = parseNvidiaTopology(text);
    expect(parsed.ok && parsed.value.devices).toEqual(["GPU0"]);
    expect(parsed.ok && parsed.value.matrix.GPU0).toEqual({ GPU0: "X" });
  });

  it("refuses output without a header or with a broken diagonal", () => {
    expect(parseNvidiaTopology(readFixture("nvidia/errors/driver-not-loaded.txt")).ok).toBe(false);
    expect(parseNvidiaTopology("GPU0\t X \tNV4\nGPU1\tNV4\t X \n").ok).toBe(false);
    expect(parseNvidiaTopology("\tGPU0\tGPU1\nGPU0\tNV4\tNV4\nGPU1\tNV4\t X \n").ok).toBe(false);
  });

  it("classifies cells", () => {
    expect(classifyLink("NV4")).toEqual({ kind: "nvlink", nvlinks: 4 });
    expect(classifyLink("NODE")).toEqual({ kind: "pcie", nvlinks: null });
    expect(classifyLink("X")).toEqual({ kind: "unknown", nvlinks: null });
  });
});
