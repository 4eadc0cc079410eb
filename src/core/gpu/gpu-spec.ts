import { z } from "zod";

/**
 * One GPU catalog entry, as written in data/gpus/*.yaml (built-in) or in the user's
 * `<data-dir>/gpus/*.yaml` (merged over the built-ins by `id`). Every figure is per device.
 */
export const GpuSpecSchema = z
  .object({
    /** Stable slug, e.g. "h100-sxm", "mi300x". */
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "a lowercase slug (a-z, 0-9, '.', '-')"),
    vendor: z.enum(["nvidia", "amd"]),
    /** Display name, e.g. "NVIDIA H100 SXM5 80GB". */
    name: z.string().min(1),
    /**
     * Other spellings that identify exactly this device: the names nvidia-smi / amd-smi print
     * (e.g. "NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB", "AMD Instinct MI300X") and short forms.
     */
    aliases: z.array(z.string().min(1)).default([]),
    /** GPU architecture / generation: "turing", "ampere", "hopper", "cdna3", "rdna3", ... */
    architecture: z.string().min(1),
    formFactor: z.enum(["sxm", "pcie", "oam", "nvl", "superchip", "apu", "desktop", "workstation"]),
    memory: z.object({
      /** Size as marketed, in GB (10^9 bytes) as the vendor writes it ("80 GB"). */
      marketedGB: z.number().positive(),
      /**
       * Total device memory as the CUDA / ROCm runtime reports it (torch.cuda.mem_get_info total,
       * what vLLM calls total_gpu_memory), in GiB. E.g. 79.19 for an H100 80GB.
       */
      runtimeGiB: z.number().positive(),
      /** "measured" when seen in a real log/issue (runtimeSource), "derived" when computed. */
      runtimeBasis: z.enum(["measured", "derived"]),
      /** Where runtimeGiB was seen, or how it was derived. */
      runtimeSource: z.string().min(1),
      /** memory.total as nvidia-smi / amd-smi print it, in MiB, when known. */
      smiTotalMiB: z.number().int().positive().nullable().default(null),
      type: z.string().min(1),
      /** Peak memory bandwidth in GB/s (10^9 bytes per second). */
      bandwidthGBs: z.number().positive(),
    }),
    /** Dense (not sparse) peak tensor throughput in TFLOPS (TOPS for int8); null = not supported. */
    tflops: z.object({
      fp32: z.number().positive(),
      fp16: z.number().positive(),
      bf16: z.number().positive().nullable(),
      fp8: z.number().positive().nullable(),
      int8: z.number().positive().nullable(),
      fp4: z.number().positive().nullable().default(null),
    }),
    /** NVIDIA compute capability, e.g. "9.0"; null for AMD. */
    computeCapability: z
      .string()
      .regex(/^\d+\.\d+$/)
      .nullable(),
    /** AMD gfx target, e.g. "gfx942"; null for NVIDIA. */
    gfxTarget: z
      .string()
      .regex(/^gfx[0-9a-f]+$/)
      .nullable(),
    /** Native FP8 tensor-core support (compute capability >= 8.9, MI300 series and newer). */
    fp8: z.boolean(),
    interconnect: z.object({
      /** "nvlink4", "nvlink3", "infinity-fabric", "pcie4", "pcie5", ... */
      type: z.string().min(1),
      /** Per-GPU bidirectional bandwidth to peers in GB/s. */
      bandwidthGBs: z.number().positive(),
    }),
    /** Thermal design power / max board power in watts. */
    tdpW: z.number().positive(),
    /** Link to the vendor datasheet or page the figures come from. */
    source: z.string().url(),
    notes: z.string().optional(),
  })
  .strict();

export type GpuSpecInput = z.input<typeof GpuSpecSchema>;
export type GpuSpec = z.output<typeof GpuSpecSchema>;

/** A catalog entry plus where it came from (built-in file or user override). */
export interface GpuCatalogEntry extends GpuSpec {
  origin: { kind: "builtin" | "user"; file: string };
}
