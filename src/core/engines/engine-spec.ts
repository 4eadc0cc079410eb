import { z } from "zod";
import { EfficiencySchema } from "../perf/efficiency.js";
import { LlamaCppSpecSchema } from "./llamacpp-spec.js";
import { SglangSpecSchema } from "./sglang-spec.js";
import { VllmSpecSchema } from "./vllm-spec.js";

/** An entry of data/engines/*.yaml, told apart by `engine` ("perf" entries are efficiency factors). */
export const EngineSpecSchema = z.discriminatedUnion("engine", [
  VllmSpecSchema,
  SglangSpecSchema,
  LlamaCppSpecSchema,
  EfficiencySchema,
]);

export type EngineSpec = z.output<typeof EngineSpecSchema>;
