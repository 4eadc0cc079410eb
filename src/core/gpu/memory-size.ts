import { ServepilotError } from "../errors.js";
import type { GpuSpec } from "./gpu-spec.js";

/** A memory size in bytes, and the same size in GiB (2^30 bytes). */
export interface MemorySize {
  bytes: number;
  gib: number;
}

const GIB = 2 ** 30;

/** Bytes per unit, keyed by lower-case unit. A bare number is GB, as vendors write GPU memory. */
const UNIT_BYTES: Readonly<Record<string, number>> = {
  "": 1e9,
  g: 1e9,
  gb: 1e9,
  gi: GIB,
  gib: GIB,
  m: 1e6,
  mb: 1e6,
  mi: 2 ** 20,
  mib: 2 ** 20,
  t: 1e12,
  tb: 1e12,
  ti: 2 ** 40,
  tib: 2 ** 40,
};

export const ACCEPTED_MEMORY_SIZE_FORMS =
  '"80GB", "48 GB", "48GiB", "49152MiB", "48g" (GB), "79.19GiB" or a bare number of GB ("80"); units GB, GiB, MB, MiB, TB, TiB';

const SIZE_PATTERN = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$/i;

function invalidSize(flag: string, text: string, problem: string): ServepilotError {
  return new ServepilotError(
    "INVALID_ARGUMENT",
    `${flag}: ${problem}, got ${JSON.stringify(text)}. Expected a memory size such as ${ACCEPTED_MEMORY_SIZE_FORMS}.`,
    {
      details: { flag, value: text },
    },
  );
}

/**
 * Parses a memory size as users write it: "48GB", "48 GB", "48GiB", "49152MiB", "48g", "80",
 * "79.19GiB". GB/MB/TB are decimal (10^9...), GiB/MiB/TiB binary (2^30...), units are
 * case-insensitive and a bare number means GB. Refuses empty, negative, zero, non-numeric and
 * unknown-unit input with INVALID_ARGUMENT naming `flag`.
 */
export function parseMemorySize(text: string, flag = "--gpu-memory"): MemorySize {
  const match = SIZE_PATTERN.exec(text);
  const unitBytes = match ? UNIT_BYTES[(match[2] ?? "").toLowerCase()] : undefined;
  if (!match || unitBytes === undefined) {
    const problem = match ? `unknown unit "${match[2]}"` : "not a memory size";
    throw invalidSize(flag, text, problem);
  }
  const bytes = Math.round(Number(match[1]) * unitBytes);
  if (bytes <= 0) throw invalidSize(flag, text, "the size must be greater than zero");
  if (!Number.isSafeInteger(bytes)) throw invalidSize(flag, text, "the size is too large");
  return { bytes, gib: bytes / GIB };
}

/** "48gb" when the size is a whole number of GB, "48gib" for whole GiB, else GiB to 2 decimals. */
function sizeSlug(size: MemorySize): string {
  if (size.bytes % 1e9 === 0) return `${size.bytes / 1e9}gb`;
  if (size.bytes % GIB === 0) return `${size.bytes / GIB}gib`;
  return `${Math.round(size.gib * 100) / 100}gib`;
}

/**
 * Speed figures for a GPU known only by its memory size. We cannot know them, so we take the
 * slowest data-center GPU in the catalog (NVIDIA T4: 320 GB/s, 65 TFLOPS FP16, PCIe Gen3): memory
 * fit is exact, while performance estimates become a lower bound rather than a guess that could be
 * too optimistic. BF16 is assumed at the FP16 rate (every GPU since Ampere / CDNA2 has it) so BF16
 * models are not refused; FP8 and INT8 are not assumed.
 */
const CUSTOM_GPU_PLACEHOLDERS = {
  bandwidthGBs: 320,
  tflops: { fp32: 8.1, fp16: 65, bf16: 65, fp8: null, int8: null, fp4: null },
  interconnect: { type: "pcie3", bandwidthGBs: 32 },
  tdpW: 70,
  source: "https://www.nvidia.com/en-us/data-center/tesla-t4/",
} as const;

/**
 * A catalog-shaped entry for a GPU given only by its memory size (`--gpu-memory 48GB`), id
 * "custom-48gb". The size is taken as what the CUDA/ROCm runtime reports as total memory
 * (runtimeGiB); every speed figure is a conservative placeholder (see CUSTOM_GPU_PLACEHOLDERS) and
 * the notes say so.
 */
export function customGpuFromMemory(
  size: string | MemorySize,
  vendor: GpuSpec["vendor"] = "nvidia",
): GpuSpec {
  const parsed = typeof size === "string" ? parseMemorySize(size) : size;
  const slug = sizeSlug(parsed);
  const gib = Math.round(parsed.gib * 100) / 100;
  const vendorLabel = vendor === "nvidia" ? "NVIDIA" : "AMD";
  return {
    id: `custom-${slug}`,
    vendor,
    name: `Custom ${vendorLabel} GPU (${gib} GiB)`,
    aliases: [],
    architecture: "unknown",
    formFactor: "pcie",
    memory: {
      marketedGB: parsed.bytes / 1e9,
      runtimeGiB: parsed.gib,
      runtimeBasis: "derived",
      runtimeSource: "Given by the user (--gpu-memory), taken as the total memory the runtime reports.",
      smiTotalMiB: null,
      type: "unknown",
      bandwidthGBs: CUSTOM_GPU_PLACEHOLDERS.bandwidthGBs,
    },
    tflops: { ...CUSTOM_GPU_PLACEHOLDERS.tflops },
    computeCapability: null,
    gfxTarget: null,
    fp8: false,
    interconnect: { ...CUSTOM_GPU_PLACEHOLDERS.interconnect },
    tdpW: CUSTOM_GPU_PLACEHOLDERS.tdpW,
    source: CUSTOM_GPU_PLACEHOLDERS.source,
    notes:
      "Only the memory size is known. Bandwidth, TFLOPS, interconnect and power are placeholders taken from " +
      "the NVIDIA T4 (the slowest catalog GPU), so performance estimates are a lower bound; FP8 is not assumed.",
  };
}
