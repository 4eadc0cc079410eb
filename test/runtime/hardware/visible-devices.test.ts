import { describe, expect, it } from "vitest";
import {
  resolveAmdVisibility,
  resolveNvidiaVisibility,
  type VisibilityCandidate,
} from "../../../src/runtime/hardware/visible-devices.js";

// Four GPUs with the UUIDs of the 8x H100 capture (nvidia/h100-sxm-8x-565/list.txt); GPU 1 in MIG mode.
const NVIDIA: VisibilityCandidate[] = [
  { index: 0, ids: ["GPU-b42dd28e-ffdd-8720-1df0-98bd8cdc05b1"] },
  {
    index: 1,
    ids: ["GPU-7c3cadbd-17e5-0913-f69b-c618122ea0cd"],
    migIds: ["MIG-ce861fb0-a248-58ce-a9a8-f9adbc22a66a", "MIG-a45882f0-9215-5733-a0c1-49286ab31cb5"],
  },
  { index: 2, ids: ["GPU-2d50cdf6-dd67-9f2e-855e-0d4d6d395a2f"] },
  { index: 3, ids: ["GPU-d1838e76-90e6-4408-711d-aeeaa2e1fd14"] },
];

function physical(env: NodeJS.ProcessEnv): Array<[number, number]> {
  return resolveNvidiaVisibility(NVIDIA, env).devices.map((device) => [device.index, device.visibleIndex]);
}

describe("resolveNvidiaVisibility", () => {
  it("shows every GPU in physical order when CUDA_VISIBLE_DEVICES is unset", () => {
    const result = resolveNvidiaVisibility(NVIDIA, {});
    expect(result.variable).toBeNull();
    expect(physical({})).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(result.warnings).toEqual([]);
  });

  it("enumerates in the order given", () => {
    expect(physical({ CUDA_VISIBLE_DEVICES: "2,1" })).toEqual([
      [2, 0],
      [1, 1],
    ]);
  });

  it("stops at the first invalid entry, as CUDA does with 0,2,-1,1", () => {
    const result = resolveNvidiaVisibility(NVIDIA, { CUDA_VISIBLE_DEVICES: "0,2,-1,1" });
    expect(result.devices.map((device) => device.index)).toEqual([0, 2]);
    expect(result.warnings).toEqual([
      'CUDA_VISIBLE_DEVICES="0,2,-1,1": entry "-1" is negative, so it and the entries after it (1) are ignored, as the runtime does',
    ]);
  });

  it("hides every GPU for -1 and for an empty value", () => {
    expect(resolveNvidiaVisibility(NVIDIA, { CUDA_VISIBLE_DEVICES: "-1" })).toEqual({
      variable: "CUDA_VISIBLE_DEVICES",
      devices: [],
      warnings: ['CUDA_VISIBLE_DEVICES="-1" hides every GPU'],
    });
    const empty = resolveNvidiaVisibility(NVIDIA, { CUDA_VISIBLE_DEVICES: "" });
    expect(empty.devices).toEqual([]);
    expect(empty.warnings[0]).toMatch(/set but empty/);
  });

  it("stops at an index past the last GPU and at a repeated entry", () => {
    expect(physical({ CUDA_VISIBLE_DEVICES: "3,4,0" })).toEqual([[3, 0]]);
    expect(physical({ CUDA_VISIBLE_DEVICES: "1,1,2" })).toEqual([[1, 0]]);
  });

  it("accepts full UUIDs and unique prefixes, with spaces around entries", () => {
    expect(physical({ CUDA_VISIBLE_DEVICES: "GPU-d1838e76-90e6-4408-711d-aeeaa2e1fd14, GPU-2d50" })).toEqual([
      [3, 0],
      [2, 1],
    ]);
  });

  it("stops at a UUID prefix that is ambiguous or unknown", () => {
    expect(physical({ CUDA_VISIBLE_DEVICES: "0,GPU-" })).toEqual([[0, 0]]);
    expect(physical({ CUDA_VISIBLE_DEVICES: "GPU-ffff,0" })).toEqual([]);
  });

  it("maps a MIG UUID to its GPU, one visible device per MIG entry", () => {
    const result = resolveNvidiaVisibility(NVIDIA, {
      CUDA_VISIBLE_DEVICES: "MIG-a45882f0-9215-5733-a0c1-49286ab31cb5,MIG-ce861fb0",
    });
    expect(result.devices).toEqual([
      { index: 1, visibleIndex: 0, migUuid: "MIG-a45882f0-9215-5733-a0c1-49286ab31cb5" },
      { index: 1, visibleIndex: 1, migUuid: "MIG-ce861fb0-a248-58ce-a9a8-f9adbc22a66a" },
    ]);
  });
});

// rocm-smi "Unique ID"s of the 4x MI100 capture (amd/rocm-smi/mi100-4x-rocm602.json), in ROCr's GPU- form.
const AMD: VisibilityCandidate[] = [
  { index: 0, ids: ["GPU-79ccd55167a2124a"] },
  { index: 1, ids: ["GPU-4edfb117a17a07d"] },
  { index: 2, ids: ["GPU-d4a9ec48d03d261d"] },
  { index: 3, ids: ["GPU-1b9dd972253c3736"] },
];

function amdPhysical(env: NodeJS.ProcessEnv): number[] {
  return resolveAmdVisibility(AMD, env).devices.map((device) => device.index);
}

describe("resolveAmdVisibility", () => {
  it("shows every GPU when nothing is set", () => {
    expect(amdPhysical({})).toEqual([0, 1, 2, 3]);
    expect(resolveAmdVisibility(AMD, {}).variable).toBeNull();
  });

  it("applies HIP_VISIBLE_DEVICES to the devices ROCR_VISIBLE_DEVICES left", () => {
    const result = resolveAmdVisibility(AMD, { ROCR_VISIBLE_DEVICES: "1,2,3", HIP_VISIBLE_DEVICES: "2,0" });
    expect(result.variable).toBe("ROCR_VISIBLE_DEVICES + HIP_VISIBLE_DEVICES");
    expect(result.devices).toEqual([
      { index: 3, visibleIndex: 0, migUuid: null },
      { index: 1, visibleIndex: 1, migUuid: null },
    ]);
  });

  it("honours CUDA_VISIBLE_DEVICES when HIP_VISIBLE_DEVICES is unset", () => {
    expect(amdPhysical({ CUDA_VISIBLE_DEVICES: "3" })).toEqual([3]);
  });

  it("prefers HIP_VISIBLE_DEVICES over CUDA_VISIBLE_DEVICES and says so", () => {
    const result = resolveAmdVisibility(AMD, { HIP_VISIBLE_DEVICES: "1", CUDA_VISIBLE_DEVICES: "3" });
    expect(result.devices.map((device) => device.index)).toEqual([1]);
    expect(result.warnings).toEqual([
      "HIP_VISIBLE_DEVICES and CUDA_VISIBLE_DEVICES are both set; HIP uses HIP_VISIBLE_DEVICES",
    ]);
  });

  it("accepts ROCr UUIDs in ROCR_VISIBLE_DEVICES", () => {
    expect(amdPhysical({ ROCR_VISIBLE_DEVICES: "GPU-d4a9ec48d03d261d,GPU-79cc" })).toEqual([2, 0]);
  });

  it("hides everything when ROCR_VISIBLE_DEVICES is empty", () => {
    const result = resolveAmdVisibility(AMD, { ROCR_VISIBLE_DEVICES: "", HIP_VISIBLE_DEVICES: "0" });
    expect(result.devices).toEqual([]);
    expect(result.warnings[0]).toMatch(/ROCR_VISIBLE_DEVICES is set but empty/);
  });
});
