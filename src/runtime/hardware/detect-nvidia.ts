/**
 * NVIDIA detection through nvidia-smi: the CSV query is the source of truth; the banner adds the
 * CUDA version, `-L` the MIG devices, the compute-apps query the processes and `topo -m` the
 * interconnect. Only the CSV query decides the tool's outcome; the others add warnings when they
 * fail, so a GPU list survives a broken side query.
 */

import { type NvidiaListedGpu, parseNvidiaList } from "./parse-nvidia-list.js";
import {
  NVIDIA_APP_FIELDS,
  NVIDIA_GPU_FIELDS,
  type NvidiaGpuRow,
  type NvidiaProcessRow,
  parseInvalidQueryField,
  parseNvidiaBanner,
  parseNvidiaComputeApps,
  parseNvidiaGpuQuery,
} from "./parse-nvidia-smi.js";
import { parseNvidiaTable } from "./parse-nvidia-table.js";
import { type NvidiaTopology, parseNvidiaTopology } from "./parse-nvidia-topo.js";
import type { Parsed } from "./parsed.js";
import type { ToolRun } from "./run-tool.js";
import { failedOutcome, type ToolRunner } from "./tool-outcome.js";
import type { DetectedGpu, ToolOutcome } from "./types.js";

export type PhysicalGpu = Omit<DetectedGpu, "visibleIndex">;

export interface NvidiaDetection {
  gpus: PhysicalGpu[];
  driverVersion: string | null;
  cudaVersion: string | null;
  topology: NvidiaTopology | null;
  outcome: ToolOutcome;
  warnings: string[];
}

/** Old drivers reject unknown fields one at a time; at most this many are dropped. */
const MAX_FIELD_RETRIES = 4;

interface QueryAnswer {
  run: ToolRun;
  fields: string[];
  warnings: string[];
}

async function queryGpus(bin: string, run: ToolRunner): Promise<QueryAnswer> {
  let fields: string[] = [...NVIDIA_GPU_FIELDS];
  const warnings: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const answer = await run(bin, [`--query-gpu=${fields.join(",")}`, "--format=csv,noheader,nounits"]);
    if (answer.kind !== "exit" || attempt >= MAX_FIELD_RETRIES) return { run: answer, fields, warnings };
    const rejected = parseInvalidQueryField(`${answer.stdout}\n${answer.stderr}`);
    if (rejected === null || !fields.includes(rejected) || rejected === "index" || rejected === "name") {
      return { run: answer, fields, warnings };
    }
    fields = fields.filter((field) => field !== rejected);
    warnings.push(`nvidia-smi does not know the field "${rejected}" (older driver); it is reported as null`);
  }
}

function toPhysical(row: NvidiaGpuRow): PhysicalGpu {
  const { driverVersion: _driverVersion, ...gpu } = row;
  return { ...gpu, processes: [] };
}

function fromTable(text: string, warnings: string[]): PhysicalGpu[] {
  const table = parseNvidiaTable(text);
  if (!table.ok) return [];
  warnings.push(
    "read the GPUs from the plain nvidia-smi table instead; UUIDs and compute capability are unknown",
  );
  return table.value.gpus.map((gpu) => {
    if (gpu.nameTruncated) warnings.push(`nvidia-smi truncated the name of GPU ${gpu.index}: "${gpu.name}"`);
    return {
      vendor: "nvidia",
      index: gpu.index,
      uuid: null,
      name: gpu.name,
      memoryTotalMiB: gpu.memoryTotalMiB,
      memoryUsedMiB: gpu.memoryUsedMiB,
      memoryFreeMiB: null,
      utilizationPercent: gpu.utilizationPercent,
      temperatureC: gpu.temperatureC,
      powerDrawW: gpu.powerDrawW,
      powerLimitW: gpu.powerLimitW,
      computeCapability: null,
      gfxTarget: null,
      pciBusId: gpu.pciBusId,
      mig: { enabled: gpu.migEnabled, devices: [] },
      processes: table.value.processes
        .filter((process) => process.gpuIndex === gpu.index)
        .map(({ pid, name, usedMemoryMiB }) => ({ pid, name, usedMemoryMiB })),
    };
  });
}

function attachMig(gpus: PhysicalGpu[], listed: NvidiaListedGpu[]): void {
  for (const gpu of gpus) {
    const match = listed.find((item) =>
      gpu.uuid !== null ? item.uuid === gpu.uuid : item.index === gpu.index,
    );
    if (match === undefined) continue;
    gpu.mig.devices = match.migDevices;
    if (match.migDevices.length > 0 && gpu.mig.enabled === null) gpu.mig.enabled = true;
  }
}

function attachProcesses(gpus: PhysicalGpu[], processes: NvidiaProcessRow[]): void {
  for (const gpu of gpus) {
    gpu.processes = processes
      .filter((process) => process.gpuUuid === gpu.uuid)
      .map(({ pid, name, usedMemoryMiB }) => ({ pid, name, usedMemoryMiB }));
  }
}

/** One GPU has no links to read; its matrix is the diagonal alone. */
function singleGpuTopology(index: number): NvidiaTopology {
  const label = `GPU${index}`;
  return { devices: [label], matrix: { [label]: { [label]: "X" } } };
}

/** The parsed answer of a side query, or null with a warning saying what is unknown and why. */
function readSideAnswer<T>(
  what: string,
  command: string,
  answer: ToolRun | null,
  parse: (text: string) => Parsed<T>,
  warnings: string[],
): T | null {
  if (answer === null) return null;
  if (answer.kind !== "ok") {
    warnings.push(`${what} unknown: ${answer.message}`);
    return null;
  }
  const parsed = parse(answer.stdout);
  if (!parsed.ok) {
    warnings.push(`${what} unknown: could not read the output of ${command}: ${parsed.error}`);
    return null;
  }
  return parsed.value;
}

export async function detectNvidia(bin: string, run: ToolRunner): Promise<NvidiaDetection> {
  const query = await queryGpus(bin, run);
  const warnings = [...query.warnings];
  const empty = { gpus: [], driverVersion: null, cudaVersion: null, topology: null, warnings };
  if (query.run.kind !== "ok") return { ...empty, outcome: failedOutcome("nvidia-smi", query.run) };

  const parsed = parseNvidiaGpuQuery(query.run.stdout, query.fields);
  if (!parsed.ok) {
    const bannerRun = await run(bin, []);
    const bannerText = bannerRun.kind === "ok" ? bannerRun.stdout : "";
    const banner = parseNvidiaBanner(bannerText);
    const gpus = fromTable(bannerText, warnings);
    const outcome: ToolOutcome = {
      tool: "nvidia-smi",
      status: "unparseable",
      message: `could not read the --query-gpu output: ${parsed.error}`,
    };
    return {
      gpus,
      driverVersion: banner.ok ? banner.value.driverVersion : null,
      cudaVersion: banner.ok ? banner.value.cudaVersion : null,
      topology: null,
      outcome,
      warnings,
    };
  }

  const gpus = parsed.value.map(toPhysical);
  const [bannerRun, listRun, appsRun, topoRun] = await Promise.all([
    run(bin, []),
    run(bin, ["-L"]),
    run(bin, [`--query-compute-apps=${NVIDIA_APP_FIELDS.join(",")}`, "--format=csv,noheader,nounits"]),
    gpus.length > 1 ? run(bin, ["topo", "-m"]) : Promise.resolve(null),
  ]);

  const banner = readSideAnswer("CUDA version", "nvidia-smi", bannerRun, parseNvidiaBanner, warnings);
  const listed = readSideAnswer("MIG devices", "nvidia-smi -L", listRun, parseNvidiaList, warnings);
  if (listed !== null) attachMig(gpus, listed);
  const apps = readSideAnswer(
    "GPU processes",
    "nvidia-smi --query-compute-apps",
    appsRun,
    parseNvidiaComputeApps,
    warnings,
  );
  if (apps !== null) attachProcesses(gpus, apps);
  const only = gpus.length === 1 ? gpus[0] : undefined;
  const topology =
    only !== undefined
      ? singleGpuTopology(only.index)
      : readSideAnswer("GPU interconnect", "nvidia-smi topo -m", topoRun, parseNvidiaTopology, warnings);

  return {
    gpus,
    driverVersion: parsed.value[0]?.driverVersion ?? banner?.driverVersion ?? null,
    cudaVersion: banner?.cudaVersion ?? null,
    topology,
    outcome: { tool: "nvidia-smi", status: "ok", message: null },
    warnings,
  };
}
