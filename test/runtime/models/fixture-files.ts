/**
 * Test fixtures for the model sources: the JSON files of test/fixtures/models, temporary
 * directories, and (re-exported) the writers of tiny but real safetensors and GGUF files,
 * generated at test time instead of committed binaries.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/models");

export async function loadFixtureJson(relativePath: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(FIXTURES, relativePath), "utf8")) as Record<string, unknown>;
}

export async function makeTempDir(
  prefix = "servepilot-models-",
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function writeFileAt(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

export * from "./write-gguf.js";
export * from "./write-safetensors.js";
