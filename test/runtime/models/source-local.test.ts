import { spawnSync } from "node:child_process";
import { chmod, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { type ResolveModelOptions, resolveModel } from "../../../src/runtime/models/index.js";
import {
  buildGguf,
  buildSafetensors,
  buildTinyQwen3Gguf,
  loadFixtureJson,
  makeTempDir,
  qwen3LikeTensors,
  sumElements,
  writeFileAt,
  writeShardedSafetensors,
} from "./fixture-files.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

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

/** Options that keep the real environment out: no HF_* variables, no network (a fetch that counts). */
function isolated(extra: ResolveModelOptions = {}): ResolveModelOptions {
  return {
    env: { HF_HUB_CACHE: join(dir, "no-cache") },
    homeDir: dir,
    cwd: dir,
    fetch: async () => {
      fetchCalls++;
      throw new TypeError("fetch failed");
    },
    ...extra,
  };
}

async function caught(promise: Promise<unknown>): Promise<ServepilotError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServepilotError) return error;
    throw error;
  }
  throw new Error("expected a ServepilotError");
}

async function writeQwenDir(path: string): Promise<void> {
  await writeFileAt(
    join(path, "config.json"),
    JSON.stringify(await loadFixtureJson("qwen3-0.6b/config.json")),
  );
}

describe("local directory source", () => {
  it("reads config.json and a single model.safetensors header", async () => {
    const model = join(dir, "qwen3");
    const tensors = qwen3LikeTensors(2);
    await writeQwenDir(model);
    await writeFileAt(join(model, "model.safetensors"), buildSafetensors(tensors));

    const raw = await resolveModel(model, isolated());
    expect(raw.id).toBe(model);
    expect(raw.origin).toEqual({ kind: "local", location: model, revision: null });
    expect(raw.config).toMatchObject({ model_type: "qwen3", hidden_size: 1024, num_hidden_layers: 28 });
    expect(raw.safetensors).toEqual({
      tensors,
      parameterCount: { BF16: sumElements(tensors) },
      files: ["model.safetensors"],
    });
    expect(raw.gguf).toBeNull();
    expect(raw.attempts).toEqual([
      { source: "local", outcome: "found", message: expect.stringContaining(model) },
    ]);
    expect(fetchCalls).toBe(0);
  });

  it("reads every shard listed by model.safetensors.index.json", async () => {
    const model = join(dir, "sharded");
    const all = qwen3LikeTensors(3);
    const shards = [all.slice(0, 5), all.slice(5, 9), all.slice(9)];
    await writeQwenDir(model);
    const names = await writeShardedSafetensors(model, shards);

    const raw = await resolveModel(model, isolated());
    expect(raw.safetensors?.files).toEqual(names);
    expect(raw.safetensors?.tensors).toEqual(all);
    expect(raw.safetensors?.parameterCount).toEqual({ BF16: sumElements(all) });
  });

  it("counts mixed dtypes separately", async () => {
    const model = join(dir, "mixed");
    await writeQwenDir(model);
    const tensors = [
      { name: "a.weight", dtype: "F8_E4M3", shape: [8, 8] },
      { name: "a.weight_scale_inv", dtype: "F32", shape: [1, 1] },
      { name: "b.weight", dtype: "BF16", shape: [4] },
    ];
    await writeFileAt(join(model, "model.safetensors"), buildSafetensors(tensors));
    const raw = await resolveModel(model, isolated());
    expect(raw.safetensors?.parameterCount).toEqual({ F8_E4M3: 64, F32: 1, BF16: 4 });
  });

  it("refuses a truncated config.json, naming the file and the position", async () => {
    const model = join(dir, "bad-json");
    await writeFileAt(join(model, "config.json"), '{\n  "model_type": "qwen3",\n  "hidden_size": 10');
    const error = await caught(resolveModel(model, isolated()));
    expect(error.code).toBe("INVALID_MODEL_CONFIG");
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(
      `${join(model, "config.json")}: invalid JSON at line 3, column 20 (offset 46 of 46)`,
    );
    expect(error.message).toContain("truncated?");
  });

  it("refuses a config.json that is not an object", async () => {
    const model = join(dir, "array-json");
    await writeFileAt(join(model, "config.json"), "[1, 2]");
    const error = await caught(resolveModel(model, isolated()));
    expect(error.code).toBe("INVALID_MODEL_CONFIG");
    expect(error.message).toBe(`${join(model, "config.json")}: must be a JSON object, got an array`);
  });

  it("refuses a safetensors file whose header is cut short", async () => {
    const model = join(dir, "truncated");
    await writeQwenDir(model);
    const file = buildSafetensors(qwen3LikeTensors(1));
    await writeFileAt(join(model, "model.safetensors"), file.subarray(0, 100));
    const error = await caught(resolveModel(model, isolated()));
    expect(error.code).toBe("INVALID_MODEL_CONFIG");
    expect(error.message).toMatch(
      new RegExp(
        `^${join(model, "model.safetensors")}: declares a \\d+-byte JSON header but only 92 bytes follow`,
      ),
    );
  });

  it("refuses an index whose shards are missing", async () => {
    const model = join(dir, "missing-shard");
    await writeQwenDir(model);
    const names = await writeShardedSafetensors(model, [
      qwen3LikeTensors(1),
      [{ name: "x", dtype: "F32", shape: [1] }],
    ]);
    await rm(join(model, names[1] as string));
    const error = await caught(resolveModel(model, isolated()));
    expect(error.code).toBe("INVALID_MODEL_CONFIG");
    expect(error.message).toContain(
      `1 of 2 shards listed in model.safetensors.index.json are missing (${names[1]})`,
    );
  });

  it("refuses a path-looking ref that does not exist, without asking the Hub", async () => {
    for (const ref of ["./nope", "../nope", "/definitely/not/here", "~/nope"]) {
      const error = await caught(resolveModel(ref, isolated()));
      expect(error.code, ref).toBe("MODEL_NOT_FOUND");
      expect(error.message, ref).toContain(`Local path ${ref} does not exist`);
    }
    expect(fetchCalls).toBe(0);
  });

  it("expands ~ with the home directory and resolves relative paths against cwd", async () => {
    await writeQwenDir(join(dir, "models", "q"));
    expect((await resolveModel("~/models/q", isolated())).id).toBe(join(dir, "models", "q"));
    expect((await resolveModel("./models/q", isolated())).id).toBe(join(dir, "models", "q"));
    // A bare owner/name that exists under cwd is read as a directory first.
    expect((await resolveModel("models/q", isolated())).origin.kind).toBe("local");
  });

  it("says what is missing in a directory without model files", async () => {
    await mkdir(join(dir, "empty"));
    const error = await caught(resolveModel("./empty", isolated()));
    expect(error.code).toBe("MODEL_NOT_FOUND");
    expect(error.message).toBe(`${join(dir, "empty")} has no config.json and no .gguf file`);
  });

  it("refuses a plain file that is neither a .gguf nor a config.json", async () => {
    await writeFileAt(join(dir, "weights.bin"), "x");
    const error = await caught(resolveModel("./weights.bin", isolated()));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain(
      "expected a model directory (with config.json), a config.json or a .gguf file",
    );
  });

  it("reports an unreadable directory as PERMISSION_DENIED with its path", async () => {
    const parent = join(dir, "perm");
    const model = join(parent, "locked");
    await writeQwenDir(model);
    await chmod(dir, 0o755);
    await chmod(parent, 0o755);
    await chmod(model, 0o000);
    try {
      let outcome: { ok: boolean; code?: string; message?: string };
      if (process.getuid?.() === 0) {
        // Root reads through any mode bits: resolve as "nobody" in a child process instead.
        const childTmp = join(dir, "child-tmp");
        await mkdir(childTmp, { mode: 0o777 });
        await chmod(childTmp, 0o777);
        const child = spawnSync(
          process.execPath,
          ["--import", "tsx", join(REPO_ROOT, "test/runtime/models/resolve-in-child.ts"), model],
          {
            cwd: REPO_ROOT,
            uid: 65534,
            gid: 65534,
            encoding: "utf8",
            env: { PATH: process.env.PATH ?? "", TMPDIR: childTmp },
          },
        );
        outcome = JSON.parse(child.stdout || JSON.stringify({ ok: false, message: child.stderr }));
      } else {
        const error = await caught(resolveModel(model, isolated()));
        outcome = { ok: false, code: error.code, message: error.message };
      }
      expect(outcome).toEqual({
        ok: false,
        code: "PERMISSION_DENIED",
        message: `Cannot list the directory ${model}: permission denied`,
      });
    } finally {
      await chmod(model, 0o755);
    }
  });
});

describe("local GGUF source", () => {
  it("reads a .gguf file's header: metadata without the token list, tensors, size", async () => {
    const file = buildTinyQwen3Gguf({ vocab: 2000 });
    const path = join(dir, "tiny-Q4_K_M.gguf");
    await writeFileAt(path, file);

    const raw = await resolveModel(path, isolated());
    expect(raw.config).toBeNull();
    expect(raw.safetensors).toBeNull();
    expect(raw.gguf?.architecture).toBe("qwen3");
    expect(raw.gguf?.fileSizeBytes).toBe(file.byteLength);
    expect(raw.gguf?.metadata).toMatchObject({
      "general.name": "Tiny Qwen3",
      "qwen3.block_count": 2,
      "qwen3.attention.key_length": 32,
      "tokenizer.ggml.tokens": { omitted: "array", length: 2000 },
      "split.count": 0,
    });
    expect(raw.gguf?.metadata["qwen3.attention.layer_norm_rms_epsilon"]).toBeCloseTo(1e-6, 12);
    expect(raw.gguf?.tensors).toEqual([
      { name: "token_embd.weight", shape: [64, 2000], ggmlType: "Q8_0" },
      { name: "blk.0.attn_q.weight", shape: [64, 128], ggmlType: "Q8_0" },
      { name: "blk.0.attn_norm.weight", shape: [64], ggmlType: "F32" },
      { name: "blk.1.ffn_down.weight", shape: [256, 64], ggmlType: "Q4_K" },
      { name: "blk.1.ffn_up.weight", shape: [64, 256], ggmlType: "F16" },
    ]);
  });

  it("reads all shards of a split GGUF", async () => {
    const first = buildGguf({ "general.architecture": { str: "llama" }, "split.count": { u32: 2 } }, [
      { name: "token_embd.weight", shape: [32, 10], ggmlType: "F16" },
    ]);
    const second = buildGguf({ "general.architecture": { str: "llama" }, "split.no": { u32: 1 } }, [
      { name: "output.weight", shape: [32, 10], ggmlType: "Q8_0" },
    ]);
    await writeFileAt(join(dir, "m", "m-00001-of-00002.gguf"), first);
    await writeFileAt(join(dir, "m", "m-00002-of-00002.gguf"), second);
    const raw = await resolveModel("./m", isolated());
    expect(raw.gguf?.tensors.map((t) => t.name)).toEqual(["token_embd.weight", "output.weight"]);
    expect(raw.gguf?.fileSizeBytes).toBe(first.byteLength + second.byteLength);
  });

  it("picks a Q4_K_M file in a directory of quantizations unless told otherwise", async () => {
    await writeFileAt(
      join(dir, "q", "tiny-Q8_0.gguf"),
      buildTinyQwen3Gguf({ extra: { "general.name": { str: "q8" } } }),
    );
    await writeFileAt(
      join(dir, "q", "tiny-Q4_K_M.gguf"),
      buildTinyQwen3Gguf({ extra: { "general.name": { str: "q4" } } }),
    );
    await writeFileAt(join(dir, "q", "mmproj-F16.gguf"), "not read");
    expect((await resolveModel("./q", isolated())).gguf?.metadata["general.name"]).toBe("q4");
    expect((await resolveModel("./q", isolated({ ggufFile: "q8_0" }))).gguf?.metadata["general.name"]).toBe(
      "q8",
    );
    const error = await caught(resolveModel("./q", isolated({ ggufFile: "Q2_K" })));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain(
      'no GGUF file matches "Q2_K"; available: tiny-Q4_K_M.gguf, tiny-Q8_0.gguf',
    );
  });

  it("refuses a file that is not GGUF", async () => {
    await writeFileAt(join(dir, "fake.gguf"), "definitely not a gguf file");
    const error = await caught(resolveModel("./fake.gguf", isolated()));
    expect(error.code).toBe("INVALID_MODEL_CONFIG");
    expect(error.message).toContain(`${join(dir, "fake.gguf")}: not a readable GGUF file`);
  });
});
