import { randomBytes } from "node:crypto";
import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { stringify } from "yaml";
import { ServepilotError } from "../core/errors.js";
import { matchGpu } from "../core/gpu/match-gpu.js";
import { customGpuFromMemory } from "../core/gpu/memory-size.js";
import type { Plan } from "../core/plan/types.js";
import {
  type Artifact,
  type ArtifactKind,
  defaultArtifactKinds,
  renderArtifacts,
} from "../core/render/artifacts.js";
import { buildDeployment } from "../core/render/build-deployment.js";
import { loadGpuCatalog } from "./catalog/gpu-catalog.js";
import { type PlanOptions, type PlanRequest, plan } from "./plan.js";
import { requestToProfile } from "./profile.js";

export interface GenerateOptions extends PlanOptions {
  outputDir: string;
  emit?: ArtifactKind[];
  port?: number;
  force?: boolean;
}

export interface GenerateResult {
  outputDir: string;
  files: Array<{ kind: ArtifactKind; path: string }>;
  plan: Plan;
}

/**
 * Plans, renders every requested artifact in memory, then writes them all: into a fresh temporary
 * directory beside the target, moved into place file by file only when everything rendered. Existing
 * files are kept unless `force` (and then listed before anything is written).
 */
export async function generate(request: PlanRequest, options: GenerateOptions): Promise<GenerateResult> {
  const result = await plan(request, options);
  const gpus = await loadGpuCatalog({ dataDir: options.dataDir ?? null });
  const gpu =
    gpus.find((g) => g.id === result.hardware.gpuId) ??
    (request.gpu
      ? matchGpu(request.gpu, gpus).entry
      : customGpuFromMemory(`${result.hardware.memoryPerGpuGiB}GiB`));
  const deployment = buildDeployment(result, gpu, {
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  const kinds = options.emit ?? defaultArtifactKinds(deployment);
  const artifacts: Artifact[] = renderArtifacts(deployment, kinds);
  if (kinds.includes("profile")) {
    const profile = requestToProfile(request);
    artifacts.push({
      kind: "profile",
      file: "profile.yaml",
      content: `# servepilot profile: \`servepilot plan --profile profile.yaml\` reproduces this plan.\n${stringify(profile)}`,
      executable: false,
    });
  }
  if (kinds.includes("plan")) {
    artifacts.push({
      kind: "plan",
      file: "plan.json",
      content: `${JSON.stringify(result, null, 2)}\n`,
      executable: false,
    });
  }
  const outputDir = resolve(options.outputDir);
  await mkdir(dirname(outputDir), { recursive: true });
  let existing: string[] = [];
  try {
    const info = await stat(outputDir);
    if (!info.isDirectory()) {
      throw new ServepilotError("INVALID_ARGUMENT", `-o ${options.outputDir}: exists and is not a directory`);
    }
    existing = await readdir(outputDir);
  } catch (error) {
    if (error instanceof ServepilotError) throw error;
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new ServepilotError(
        "PERMISSION_DENIED",
        `-o ${options.outputDir}: cannot read (${(error as NodeJS.ErrnoException).code})`,
      );
    }
  }
  const conflicts = artifacts.map((a) => a.file).filter((file) => existing.includes(file));
  if (conflicts.length > 0 && !options.force) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `-o ${options.outputDir}: ${conflicts.join(", ")} already exist; nothing was written`,
      {
        hint: "pass --force to overwrite them, or choose another directory",
        details: { conflicts },
      },
    );
  }
  const staging = `${outputDir}.servepilot-${randomBytes(4).toString("hex")}`;
  try {
    await mkdir(staging, { recursive: true });
    for (const artifact of artifacts) {
      const path = join(staging, artifact.file);
      await writeFile(path, artifact.content, "utf8");
      if (artifact.executable) await chmod(path, 0o755);
    }
    await mkdir(outputDir, { recursive: true });
    for (const artifact of artifacts)
      await rename(join(staging, artifact.file), join(outputDir, artifact.file));
  } catch (error) {
    if (error instanceof ServepilotError) throw error;
    throw new ServepilotError(
      "PERMISSION_DENIED",
      `-o ${options.outputDir}: cannot write (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      {
        cause: error,
      },
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return {
    outputDir,
    files: artifacts.map((a) => ({ kind: a.kind, path: join(outputDir, a.file) })),
    plan: result,
  };
}
