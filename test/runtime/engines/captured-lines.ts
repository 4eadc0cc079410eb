import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseLlamacppLine } from "../../../src/runtime/engines/llamacpp-log.js";
import type { EngineLogEvent } from "../../../src/runtime/engines/log-events.js";
import { parseSglangLine } from "../../../src/runtime/engines/sglang-log.js";
import { parseVllmLine } from "../../../src/runtime/engines/vllm-log.js";

/** test/fixtures/engines, with a trailing slash. */
export const ENGINE_FIXTURES = fileURLToPath(new URL("../../fixtures/engines/", import.meta.url));

export type EngineName = "vllm" | "sglang" | "llamacpp";

export interface CapturedLine {
  engine: EngineName;
  line: string;
  source: string;
  kind: string;
  expect: Partial<EngineLogEvent> | null;
}

export const PARSERS: Record<EngineName, (line: string) => EngineLogEvent | null> = {
  vllm: parseVllmLine,
  sglang: parseSglangLine,
  llamacpp: parseLlamacppLine,
};

export function readCapturedLines(): CapturedLine[] {
  return JSON.parse(readFileSync(`${ENGINE_FIXTURES}captured-lines.json`, "utf8")) as CapturedLine[];
}
