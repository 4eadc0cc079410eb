import { createHash } from "node:crypto";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { type ResolveModelOptions, resolveModel } from "../../../src/runtime/models/index.js";
import {
  buildSafetensors,
  buildTinyQwen3Gguf,
  loadFixtureJson,
  makeTempDir,
  qwen3LikeTensors,
  writeFileAt,
} from "./fixture-files.js";

const REPO = "Qwen/Qwen3-0.6B";
const COMMIT = "c1899de289a04d12100db370d81485cdf75e47ca";

let dir: string;
let cleanup: () => Promise<void>;
let fetchCalls: number;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  fetchCalls = 0;
});
afterEach(async () => {
  await cleanup();
});

function options(env: NodeJS.ProcessEnv, extra: ResolveModelOptions = {}): ResolveModelOptions {
  return {
    env,
    homeDir: join(dir, "home"),
    cwd: dir,
    fetch: async () => {
      fetchCalls++;
      throw new TypeError("fetch failed");
    },
    ...extra,
  };
}

/**
 * Writes a repo the way huggingface_hub lays out its cache: blobs/<hash> with the content,
 * snapshots/<commit>/<path> as relative symlinks to the blobs, refs/<branch> holding the commit.
 */
async function writeCachedRepo(
  cacheDir: string,
  repo: string,
  files: Record<string, string | Uint8Array>,
  refs: Record<string, string> = { main: COMMIT },
  commit = COMMIT,
): Promise<string> {
  const repoDir = join(cacheDir, `models--${repo.replace("/", "--")}`);
  const snapshot = join(repoDir, "snapshots", commit);
  for (const [path, content] of Object.entries(files)) {
    const hash = createHash("sha256").update(content).digest("hex");
    await writeFileAt(join(repoDir, "blobs", hash), content);
    await mkdir(join(snapshot, path, ".."), { recursive: true });
    const depth = path.split("/").length + 1;
    await symlink(`${"../".repeat(depth)}blobs/${hash}`, join(snapshot, path));
  }
  for (const [ref, target] of Object.entries(refs)) await writeFileAt(join(repoDir, "refs", ref), target);
  return snapshot;
}

async function qwenFiles(): Promise<Record<string, string | Uint8Array>> {
  return {
    "config.json": JSON.stringify(await loadFixtureJson("qwen3-0.6b/config.json")),
    "model.safetensors": buildSafetensors(qwen3LikeTensors(1)),
  };
}

describe("Hugging Face cache source", () => {
  it("follows refs/main to the snapshot and reads config and safetensors through the blob symlinks", async () => {
    const cache = join(dir, "hub-cache");
    const snapshot = await writeCachedRepo(cache, REPO, await qwenFiles());
    const raw = await resolveModel(REPO, options({ HF_HUB_CACHE: cache }));
    expect(raw.origin).toEqual({ kind: "hf-cache", location: snapshot, revision: COMMIT });
    expect(raw.id).toBe(REPO);
    expect(raw.config).toMatchObject({ model_type: "qwen3", vocab_size: 151936 });
    expect(raw.safetensors?.files).toEqual(["model.safetensors"]);
    expect(raw.safetensors?.tensors).toEqual(qwen3LikeTensors(1));
    expect(raw.attempts.map((a) => [a.source, a.outcome])).toEqual([
      ["local", "not-found"],
      ["hf-cache", "found"],
    ]);
    expect(fetchCalls).toBe(0);
  });

  it("finds the cache where huggingface_hub looks for it", async () => {
    const cases: Array<[NodeJS.ProcessEnv, string]> = [
      [{ HF_HUB_CACHE: join(dir, "a") }, join(dir, "a")],
      [{ HUGGINGFACE_HUB_CACHE: join(dir, "b") }, join(dir, "b")],
      [{ HF_HOME: join(dir, "c") }, join(dir, "c", "hub")],
      [{ XDG_CACHE_HOME: join(dir, "d") }, join(dir, "d", "huggingface", "hub")],
      [{}, join(dir, "home", ".cache", "huggingface", "hub")],
      // HF_HUB_CACHE wins over HF_HOME.
      [{ HF_HUB_CACHE: join(dir, "e"), HF_HOME: join(dir, "c") }, join(dir, "e")],
    ];
    for (const [env, cacheDir] of cases) {
      const repo = `org/model-${cases.findIndex(([e]) => e === env)}`;
      const snapshot = await writeCachedRepo(cacheDir, repo, { "config.json": '{"model_type": "qwen3"}' });
      const raw = await resolveModel(repo, options(env, { offline: true }));
      expect(raw.origin.location, JSON.stringify(env)).toBe(snapshot);
    }
  });

  it("reads other revisions: a branch from refs/, a commit hash directly", async () => {
    const cache = join(dir, "cache");
    const other = "0123456789abcdef0123456789abcdef01234567";
    await writeCachedRepo(
      cache,
      REPO,
      { "config.json": '{"model_type": "qwen3", "v": 2}' },
      { v2: other },
      other,
    );
    await writeCachedRepo(cache, REPO, { "config.json": '{"model_type": "qwen3", "v": 1}' });
    const env = { HF_HUB_CACHE: cache };
    expect((await resolveModel(REPO, options(env, { revision: "v2" }))).config).toMatchObject({ v: 2 });
    expect((await resolveModel(REPO, options(env, { revision: other }))).origin.revision).toBe(other);
    expect((await resolveModel(REPO, options(env))).config).toMatchObject({ v: 1 });
  });

  it("falls through to the catalog when the revision is not cached and the Hub is off", async () => {
    const cache = join(dir, "cache");
    await writeCachedRepo(cache, REPO, await qwenFiles());
    const raw = await resolveModel(
      REPO,
      options(
        { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: "1" },
        {
          revision: "dev",
          catalogLookup: (id) =>
            id === REPO ? { config: { model_type: "qwen3", from: "catalog" } } : undefined,
        },
      ),
    );
    expect(raw.origin).toEqual({ kind: "catalog", location: "catalog", revision: null });
    expect(raw.config).toEqual({ model_type: "qwen3", from: "catalog" });
    expect(raw.attempts).toEqual([
      { source: "local", outcome: "not-found", message: `no file or directory ${join(dir, REPO)}` },
      {
        source: "hf-cache",
        outcome: "not-found",
        message: `${join(cache, "models--Qwen--Qwen3-0.6B")} has no refs/dev`,
      },
      { source: "hub", outcome: "skipped", message: "HF_HUB_OFFLINE is set" },
      { source: "catalog", outcome: "found", message: "built-in catalog entry" },
    ]);
    expect(fetchCalls).toBe(0);
  });

  it("answers with the config of a partial download and says the weights are incomplete", async () => {
    const cache = join(dir, "cache");
    const index = {
      weight_map: { a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" },
    };
    await writeCachedRepo(cache, REPO, {
      "config.json": '{"model_type": "qwen3"}',
      "model.safetensors.index.json": JSON.stringify(index),
      "model-00001-of-00002.safetensors": buildSafetensors([{ name: "a", dtype: "BF16", shape: [2] }]),
    });
    const raw = await resolveModel(REPO, options({ HF_HUB_CACHE: cache }));
    expect(raw.origin.kind).toBe("hf-cache");
    expect(raw.safetensors).toBeNull();
    expect(raw.attempts[1]?.message).toContain(
      "1 of 2 shards listed in model.safetensors.index.json are missing",
    );
  });

  it("reads a GGUF-only snapshot", async () => {
    const cache = join(dir, "cache");
    await writeCachedRepo(cache, "unsloth/Tiny-GGUF", { "Tiny-Q4_K_M.gguf": buildTinyQwen3Gguf() });
    const raw = await resolveModel("unsloth/Tiny-GGUF", options({ HF_HUB_CACHE: cache }));
    expect(raw.config).toBeNull();
    expect(raw.gguf?.architecture).toBe("qwen3");
  });

  it("raises a damaged cached config.json instead of hiding it", async () => {
    const cache = join(dir, "cache");
    const snapshot = await writeCachedRepo(cache, REPO, { "config.json": '{"model_type": ' });
    const error = await resolveModel(REPO, options({ HF_HUB_CACHE: cache })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServepilotError);
    expect((error as ServepilotError).code).toBe("INVALID_MODEL_CONFIG");
    expect((error as ServepilotError).message).toContain(
      `${join(snapshot, "config.json")}: invalid JSON at line 1`,
    );
  });
});
