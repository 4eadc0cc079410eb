/**
 * AMD detection: amd-smi first (`static --json` decides; `list`, `metric` and `version` add UUIDs,
 * live usage and the ROCm version), rocm-smi's JSON when amd-smi is missing, fails, prints nothing
 * readable, or cannot name the devices (no access to /dev/kfd: every field is "N/A").
 */
import type { PhysicalGpu } from "./detect-nvidia.js";
import {
  type AmdSmiListedGpu,
  type AmdSmiMetricGpu,
  type AmdSmiStaticGpu,
  type AmdSmiVersion,
  parseAmdSmiList,
  parseAmdSmiMetric,
  parseAmdSmiStatic,
  parseAmdSmiVersion,
} from "./parse-amd-smi.js";
import { parseRocmSmi, type RocmSmiGpu } from "./parse-rocm-smi.js";
import type { Parsed } from "./parsed.js";
import type { ToolRun } from "./run-tool.js";
import { firstLine } from "./smi-values.js";
import { failedOutcome, type ToolRunner } from "./tool-outcome.js";
import type { ToolOutcome } from "./types.js";

/** An AMD GPU plus the identifiers ROCR_VISIBLE_DEVICES / HIP_VISIBLE_DEVICES UUID entries may use. */
export interface AmdGpu extends PhysicalGpu {
  visibilityIds: string[];
}

export interface AmdDetection {
  gpus: AmdGpu[];
  driverVersion: string | null;
  rocmVersion: string | null;
  outcomes: ToolOutcome[];
  warnings: string[];
}

export const ROCM_SMI_ARGS = [
  "--showproductname",
  "--showmeminfo",
  "vram",
  "--showuse",
  "--showtemp",
  "--showpower",
  "--showmaxpower",
  "--showbus",
  "--showuniqueid",
  "--showdriverversion",
  "--json",
] as const;

/** "0x28246CE5673B4AA0" → "gpu-28246ce5673b4aa0", the form ROCr prints as a device UUID. */
function rocrUuidOf(hexId: string | null): string | null {
  const hex = hexId === null ? undefined : /^(?:0x)?([0-9a-f]+)$/i.exec(hexId)?.[1];
  return hex === undefined ? null : `GPU-${hex.toLowerCase()}`;
}

function readOptional<T>(
  what: string,
  answer: ToolRun,
  parse: (text: string) => Parsed<T>,
  warnings: string[],
): T | null {
  if (answer.kind !== "ok") {
    warnings.push(`${what} unknown: ${answer.message}`);
    return null;
  }
  const parsed = parse(answer.stdout);
  if (!parsed.ok) {
    warnings.push(`${what} unknown: could not read amd-smi's output: ${parsed.error}`);
    return null;
  }
  return parsed.value;
}

function fromAmdSmi(
  base: AmdSmiStaticGpu,
  listed: AmdSmiListedGpu | undefined,
  metric: AmdSmiMetricGpu | undefined,
): AmdGpu {
  const uuid = listed?.uuid ?? null;
  const serialId = rocrUuidOf(base.asicSerial);
  return {
    vendor: "amd",
    index: base.index,
    uuid,
    name: base.name ?? "",
    memoryTotalMiB: base.memoryTotalMiB ?? metric?.memoryTotalMiB ?? null,
    memoryUsedMiB: metric?.memoryUsedMiB ?? null,
    memoryFreeMiB: metric?.memoryFreeMiB ?? null,
    utilizationPercent: metric?.utilizationPercent ?? null,
    temperatureC: metric?.temperatureC ?? null,
    powerDrawW: metric?.powerDrawW ?? null,
    powerLimitW: base.powerLimitW,
    computeCapability: null,
    gfxTarget: base.gfxTarget,
    pciBusId: base.pciBusId ?? listed?.pciBusId ?? null,
    mig: { enabled: null, devices: [] },
    processes: [],
    raw: base.raw,
    visibilityIds: [uuid, serialId].filter((id): id is string => id !== null),
  };
}

interface AmdSmiAnswer {
  detection: AmdDetection | null;
  outcome: ToolOutcome;
}

async function tryAmdSmi(bin: string, run: ToolRunner): Promise<AmdSmiAnswer> {
  const staticRun = await run(bin, ["static", "--json"]);
  if (staticRun.kind !== "ok") return { detection: null, outcome: failedOutcome("amd-smi", staticRun) };
  const parsed = parseAmdSmiStatic(staticRun.stdout);
  if (!parsed.ok) {
    return { detection: null, outcome: { tool: "amd-smi", status: "unparseable", message: parsed.error } };
  }
  const { gpus: statics, preamble } = parsed.value;
  if (statics.length > 0 && statics.every((gpu) => gpu.name === null)) {
    const said = preamble === null ? null : firstLine(preamble);
    const message = `amd-smi reported ${statics.length} GPU(s) without names${said === null ? "" : `: ${said}`}`;
    return { detection: null, outcome: { tool: "amd-smi", status: "failed", message } };
  }
  const warnings: string[] = [];
  if (preamble !== null) {
    const hint = /permission/i.test(preamble)
      ? ' (values that need device access are null; add the user to the group it names, usually "render")'
      : "";
    warnings.push(`amd-smi: ${firstLine(preamble)}${hint}`);
  }
  const [listRun, metricRun, versionRun] = await Promise.all([
    run(bin, ["list", "--json"]),
    run(bin, ["metric", "--json"]),
    run(bin, ["version", "--json"]),
  ]);
  const listed = readOptional("AMD GPU UUIDs", listRun, parseAmdSmiList, warnings) ?? [];
  const metrics = readOptional("AMD GPU usage", metricRun, parseAmdSmiMetric, warnings) ?? [];
  const version: AmdSmiVersion | null = readOptional(
    "ROCm version",
    versionRun,
    parseAmdSmiVersion,
    warnings,
  );
  const gpus = statics.map((base) =>
    fromAmdSmi(
      base,
      listed.find((item) => item.index === base.index),
      metrics.find((item) => item.index === base.index),
    ),
  );
  for (const gpu of gpus) {
    if (gpu.name === "") warnings.push(`amd-smi printed no name for GPU ${gpu.index}`);
  }
  return {
    detection: {
      gpus,
      driverVersion:
        statics.find((gpu) => gpu.driverVersion !== null)?.driverVersion ?? version?.driverVersion ?? null,
      rocmVersion: version?.rocmVersion ?? null,
      outcomes: [],
      warnings,
    },
    outcome: { tool: "amd-smi", status: "ok", message: null },
  };
}

function fromRocmSmi(card: RocmSmiGpu, warnings: string[]): AmdGpu {
  const printedName = Object.values(card.raw)[0] ?? "";
  if (card.name === null) {
    warnings.push(`rocm-smi printed no product name for card${card.index} (only "${printedName}")`);
  }
  const rocrId = rocrUuidOf(card.uniqueId);
  const total = card.memoryTotalMiB;
  const used = card.memoryUsedMiB;
  return {
    vendor: "amd",
    index: card.index,
    uuid: rocrId,
    name: card.name ?? printedName,
    memoryTotalMiB: total,
    memoryUsedMiB: used,
    // rocm-smi prints total and used only; free is their difference.
    memoryFreeMiB: total !== null && used !== null ? Math.round((total - used) * 100) / 100 : null,
    utilizationPercent: card.utilizationPercent,
    temperatureC: card.temperatureC,
    powerDrawW: card.powerDrawW,
    powerLimitW: card.powerLimitW,
    computeCapability: null,
    gfxTarget: card.gfxTarget,
    pciBusId: card.pciBusId,
    mig: { enabled: null, devices: [] },
    processes: [],
    raw: card.raw,
    visibilityIds: rocrId === null ? [] : [rocrId],
  };
}

async function tryRocmSmi(
  bin: string,
  run: ToolRunner,
): Promise<{ detection: AmdDetection | null; outcome: ToolOutcome }> {
  const answer = await run(bin, ROCM_SMI_ARGS);
  if (answer.kind !== "ok") return { detection: null, outcome: failedOutcome("rocm-smi", answer) };
  const parsed = parseRocmSmi(answer.stdout);
  if (!parsed.ok)
    return { detection: null, outcome: { tool: "rocm-smi", status: "unparseable", message: parsed.error } };
  const warnings: string[] = [];
  const gpus = parsed.value.gpus.map((card) => fromRocmSmi(card, warnings));
  return {
    detection: { gpus, driverVersion: parsed.value.driverVersion, rocmVersion: null, outcomes: [], warnings },
    outcome: { tool: "rocm-smi", status: "ok", message: null },
  };
}

export async function detectAmd(
  bins: { amdSmi: string; rocmSmi: string },
  run: ToolRunner,
): Promise<AmdDetection> {
  const first = await tryAmdSmi(bins.amdSmi, run);
  if (first.detection !== null) return { ...first.detection, outcomes: [first.outcome] };
  const second = await tryRocmSmi(bins.rocmSmi, run);
  const outcomes = [first.outcome, second.outcome];
  if (second.detection !== null) return { ...second.detection, outcomes };
  return { gpus: [], driverVersion: null, rocmVersion: null, outcomes, warnings: [] };
}
