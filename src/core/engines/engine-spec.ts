import { z } from "zod";
import { VllmSpecSchema } from "./vllm-spec.js";

/**
 * An entry of data/engines/*.yaml, told apart by `engine`. SGLang and llama.cpp entries are
 * validated by their own schemas where the memory models read them (sglang-spec.ts, llamacpp-spec.ts).
 */
export const EngineSpecSchema = z.union([
  VllmSpecSchema,
  z
    .object({
      id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
      engine: z.enum(["sglang", "llamacpp"]),
      source: z.string().url(),
    })
    .passthrough(),
]);

export type EngineSpec = z.output<typeof EngineSpecSchema>;
