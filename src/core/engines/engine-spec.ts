import { z } from "zod";
import { LlamaCppSpecSchema } from "./llamacpp-spec.js";
import { SglangSpecSchema } from "./sglang-spec.js";
import { VllmSpecSchema } from "./vllm-spec.js";

/** An entry of data/engines/*.yaml, told apart by `engine`. */
export const EngineSpecSchema = z.discriminatedUnion("engine", [
  VllmSpecSchema,
  SglangSpecSchema,
  LlamaCppSpecSchema,
]);

export type EngineSpec = z.output<typeof EngineSpecSchema>;
