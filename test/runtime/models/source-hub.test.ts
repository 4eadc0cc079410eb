import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { type ResolveModelOptions, resolveModel } from "../../../src/runtime/models/index.js";
import { type HubServer, startHubServer } from "../../helpers/hub-server.js";
import {
  buildGguf,
  buildSafetensors,
  buildTinyQwen3Gguf,
  loadFixtureJson,
  makeTempDir,
  qwen3LikeTensors,
  sumElements,
  writeFileAt,
} from "./fixture-files.js";

const QWEN_SHA = "c1899de289a04d12100db370d81485cdf75e47ca";
const QWEN_V1_SHA = "a9c98e602b9d36d2a2f7ba1eb0f5f31e4e8e5d2b";
const GATED = "meta-llama/Llama-3.1-8B-Instruct";
const TOKEN = "hf_granted_token";

let hub: HubServer;
let dir: string;
let cleanup: () => Promise<void>;
const tensors = qwen3LikeTensors(2);
const ggufQ4 = buildTinyQwen3Gguf({ extra: { "general.name": { str: "q4" } } });

beforeAll(async () => {
  const qwen = JSON.stringify(await loadFixtureJson("qwen3-0.6b/config.json"));
  const llama = JSON.stringify(await loadFixtureJson("llama-3.1-8b-instruct/config.json"));
  const shardA = qwen3LikeTensors(1);
  const shardB = [{ name: "lm_head.weight", dtype: "BF16", shape: [64, 16] }];
  hub = await startHubServer([
    {
      id: "Qwen/Qwen3-0.6B",
      sha: QWEN_SHA,
      refs: { "v1.0": QWEN_V1_SHA },
      files: { "config.json": qwen, "model.safetensors": buildSafetensors(tensors), "README.md": "# Qwen3" },
    },
    {
      id: "Qwen/Qwen3-Sharded",
      files: {
        "config.json": qwen,
        "model.safetensors.index.json": JSON.stringify({
          metadata: { total_size: 0 },
          weight_map: {
            ...Object.fromEntries(shardA.map((t) => [t.name, "model-00001-of-00002.safetensors"])),
            "lm_head.weight": "model-00002-of-00002.safetensors",
          },
        }),
        "model-00001-of-00002.safetensors": buildSafetensors(shardA),
        "model-00002-of-00002.safetensors": buildSafetensors(shardB),
      },
    },
    {
      id: GATED,
      gated: { token: TOKEN },
      files: {
        "config.json": llama,
        "model.safetensors": buildSafetensors([{ name: "w", dtype: "BF16", shape: [4] }]),
      },
    },
    {
      id: "unsloth/Tiny-GGUF",
      files: {
        "README.md": "# GGUF",
        "Tiny-Q4_K_M.gguf": ggufQ4,
        "Q8_0/Tiny-Q8_0-00001-of-00002.gguf": buildGguf(
          { "general.architecture": { str: "llama" }, "general.name": { str: "q8" } },
          [{ name: "token_embd.weight", shape: [32, 8], ggmlType: "Q8_0" }],
        ),
        "Q8_0/Tiny-Q8_0-00002-of-00002.gguf": buildGguf({ "general.architecture": { str: "llama" } }, [
          { name: "output.weight", shape: [32, 8], ggmlType: "Q8_0" },
        ]),
      },
    },
    { id: "org/broken-config", files: { "config.json": '{"model_type": "qwen3",' } },
    {
      id: "org/broken-weights",
      files: { "config.json": "{}", "model.safetensors": buildSafetensors(tensors).subarray(0, 200) },
    },
    { id: "org/docs-only", files: { "README.md": "nothing to run" } },
  ]);
});
afterAll(async () => {
  await hub.close();
});
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  hub.requests.length = 0;
});
afterEach(async () => {
  hub.setHang(false);
  await cleanup();
});

/** The loopback Hub as HF_ENDPOINT, an empty cache and home: only the Hub (and catalog) can answer. */
function viaHub(env: NodeJS.ProcessEnv = {}, extra: ResolveModelOptions = {}): ResolveModelOptions {
  return {
    env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(dir, "cache"), ...env },
    homeDir: dir,
    cwd: dir,
    timeoutMs: 5_000,
    ...extra,
  };
}

async function caught(promise: Promise<unknown>): Promise<ServepilotError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof ServepilotError) return error;
  throw new Error(`expected a ServepilotError, got ${String(error)}`);
}

describe("Hub source", () => {
  it("reads config.json and the safetensors header by range requests, pinned to the commit", async () => {
    const raw = await resolveModel("Qwen/Qwen3-0.6B", viaHub());
    expect(raw.origin).toEqual({ kind: "hub", location: `${hub.url}/Qwen/Qwen3-0.6B`, revision: QWEN_SHA });
    expect(raw.config).toMatchObject({ model_type: "qwen3", num_key_value_heads: 8 });
    expect(raw.safetensors).toEqual({
      tensors,
      parameterCount: { BF16: sumElements(tensors) },
      files: ["model.safetensors"],
    });
    expect(raw.attempts.map((a) => [a.source, a.outcome])).toEqual([
      ["local", "not-found"],
      ["hf-cache", "not-found"],
      ["hub", "found"],
    ]);
    const weightReads = hub.requests.filter((r) => r.path.includes("model.safetensors"));
    expect(weightReads.length).toBeGreaterThan(0);
    // Never the whole weight file: every read of it is a range.
    expect(weightReads.every((r) => r.range !== null)).toBe(true);
    // Everything after model info is read at the commit the Hub named.
    expect(hub.requests.slice(1).every((r) => r.path.includes(QWEN_SHA))).toBe(true);
  });

  it("reads a sharded checkpoint through its index", async () => {
    const raw = await resolveModel("Qwen/Qwen3-Sharded", viaHub());
    expect(raw.safetensors?.files).toEqual([
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
    ]);
    expect(raw.safetensors?.tensors.map((t) => t.name)).toContain("lm_head.weight");
    expect(raw.safetensors?.parameterCount).toEqual({ BF16: sumElements(qwen3LikeTensors(1)) + 64 * 16 });
  });

  it("honours a revision (branch name) and reports the commit it resolved to", async () => {
    const raw = await resolveModel("Qwen/Qwen3-0.6B", viaHub({}, { revision: "v1.0" }));
    expect(raw.origin.revision).toBe(QWEN_V1_SHA);
    expect(hub.requests[0]?.path).toContain("/api/models/Qwen/Qwen3-0.6B/revision/v1.0");
  });

  it("refuses a gated repo without a token: PERMISSION_DENIED with the license hint", async () => {
    const error = await caught(resolveModel(GATED, viaHub()));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.exitCode).toBe(7);
    expect(error.message).toContain(
      `${GATED} is a gated repository (HTTP 401): Access to model ${GATED} is restricted`,
    );
    expect(error.message).toContain("  - hub: error (");
    expect(error.hint).toContain(`Accept the license at ${hub.url}/${GATED}`);
    expect(error.hint).toContain("set HF_TOKEN");
  });

  it("reads a gated repo with HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, or the login token file)", async () => {
    const raw = await resolveModel(GATED, viaHub({ HF_TOKEN: TOKEN }));
    expect(raw.config).toMatchObject({ model_type: "llama", num_key_value_heads: 8 });
    expect(hub.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);

    expect((await resolveModel(GATED, viaHub({ HUGGING_FACE_HUB_TOKEN: TOKEN }))).origin.kind).toBe("hub");

    await writeFileAt(join(dir, "hf-home", "token"), `${TOKEN}\n`);
    expect((await resolveModel(GATED, viaHub({ HF_HOME: join(dir, "hf-home") }))).origin.kind).toBe("hub");
  });

  it("says the token's account has no access when the Hub answers 403", async () => {
    const error = await caught(resolveModel(GATED, viaHub({ HF_TOKEN: "hf_someone_else" })));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toContain("(HTTP 403)");
    expect(error.hint).toContain("The account of HF_TOKEN has no access yet");
  });

  it("lets the catalog answer for a gated repo, keeping the Hub's refusal in the attempts", async () => {
    const raw = await resolveModel(
      GATED,
      viaHub({}, { catalogLookup: (id) => (id === GATED ? { config: { model_type: "llama" } } : undefined) }),
    );
    expect(raw.origin.kind).toBe("catalog");
    expect(raw.attempts[2]).toMatchObject({ source: "hub", outcome: "error" });
    expect(raw.attempts[2]?.message).toContain("gated repository");
  });

  it("treats a 404 as not found and falls through to the catalog", async () => {
    const raw = await resolveModel(
      "nobody/nothing",
      viaHub({ HF_TOKEN: TOKEN }, { catalogLookup: () => ({ config: { model_type: "qwen3" } }) }),
    );
    expect(raw.origin.kind).toBe("catalog");
    expect(raw.attempts[2]).toEqual({
      source: "hub",
      outcome: "not-found",
      message: `repository not found at ${hub.url}/nobody/nothing`,
    });
  });

  it("lists every source tried when nothing answers", async () => {
    const error = await caught(resolveModel("nobody/nothing", viaHub()));
    expect(error.code).toBe("MODEL_NOT_FOUND");
    expect(error.message).toBe(
      [
        'Model "nobody/nothing" was not found:',
        `  - local: not-found (no file or directory ${join(dir, "nobody/nothing")})`,
        `  - hf-cache: not-found (no models--nobody--nothing in ${join(dir, "cache")})`,
        `  - hub: not-found (repository not found at ${hub.url}/nobody/nothing (or it is private: set HF_TOKEN))`,
        "  - catalog: skipped (no catalog available)",
      ].join("\n"),
    );
    expect(error.hint).toContain("set HF_TOKEN");
    expect(error.details).toMatchObject({ ref: "nobody/nothing", attempts: expect.any(Array) });
  });

  it("gives up on a Hub that does not answer: NETWORK_ERROR after the timeout", async () => {
    hub.setHang(true);
    const error = await caught(resolveModel("Qwen/Qwen3-0.6B", viaHub({}, { timeoutMs: 200 })));
    expect(error.code).toBe("NETWORK_ERROR");
    expect(error.exitCode).toBe(6);
    expect(error.message).toContain(`${hub.url}: no answer within 200 ms`);
    expect(error.hint).toContain("HF_HUB_OFFLINE=1");
  });

  it("still answers from the catalog when the Hub hangs", async () => {
    hub.setHang(true);
    const raw = await resolveModel(
      "Qwen/Qwen3-0.6B",
      viaHub({}, { timeoutMs: 200, catalogLookup: () => ({ config: { model_type: "qwen3" } }) }),
    );
    expect(raw.origin.kind).toBe("catalog");
    expect(raw.attempts[2]).toMatchObject({ source: "hub", outcome: "error" });
  });

  it("reports an unreachable endpoint as NETWORK_ERROR", async () => {
    const closed = await startHubServer([]);
    const url = closed.url;
    await closed.close();
    const error = await caught(resolveModel("Qwen/Qwen3-0.6B", viaHub({ HF_ENDPOINT: url })));
    expect(error.code).toBe("NETWORK_ERROR");
    expect(error.message).toContain(`cannot reach ${url} (ECONNREFUSED)`);
  });

  it("skips the Hub when offline (option or HF_HUB_OFFLINE) and sends no request", async () => {
    for (const [env, extra, reason] of [
      [{}, { offline: true }, "offline mode requested"],
      [{ HF_HUB_OFFLINE: "true" }, {}, "HF_HUB_OFFLINE is set"],
    ] as const) {
      const error = await caught(resolveModel("Qwen/Qwen3-0.6B", viaHub(env, extra)));
      expect(error.code).toBe("MODEL_NOT_FOUND");
      expect(error.message).toContain(`  - hub: skipped (${reason})`);
    }
    expect(hub.requests).toEqual([]);
  });

  it("reads the GGUF header of a GGUF-only repo over HTTP ranges", async () => {
    const raw = await resolveModel("unsloth/Tiny-GGUF", viaHub());
    expect(raw.config).toBeNull();
    expect(raw.gguf?.architecture).toBe("qwen3");
    expect(raw.gguf?.metadata["general.name"]).toBe("q4");
    expect(raw.gguf?.fileSizeBytes).toBe(ggufQ4.byteLength);
    const ggufReads = hub.requests.filter((r) => r.path.endsWith(".gguf"));
    expect(ggufReads.length).toBeGreaterThan(0);
    expect(ggufReads.every((r) => r.range?.startsWith("bytes=0-"))).toBe(true);
  });

  it("reads every shard of the GGUF file set it is asked for", async () => {
    const raw = await resolveModel("unsloth/Tiny-GGUF", viaHub({}, { ggufFile: "Q8_0" }));
    expect(raw.gguf?.metadata["general.name"]).toBe("q8");
    expect(raw.gguf?.tensors.map((t) => t.name)).toEqual(["token_embd.weight", "output.weight"]);
  });

  it("refuses malformed files on the Hub, naming the repo file", async () => {
    const config = await caught(resolveModel("org/broken-config", viaHub()));
    expect(config.code).toBe("INVALID_MODEL_CONFIG");
    expect(config.message).toMatch(
      new RegExp(
        `^${hub.url}/org/broken-config/blob/[0-9a-f]{40}/config\\.json: invalid JSON at line 1, column 24`,
      ),
    );
    const weights = await caught(resolveModel("org/broken-weights", viaHub()));
    expect(weights.code).toBe("INVALID_MODEL_CONFIG");
    expect(weights.message).toContain("model.safetensors");
  });

  it("does not take a repo without config.json or GGUF files for a model", async () => {
    const error = await caught(resolveModel("org/docs-only", viaHub()));
    expect(error.code).toBe("MODEL_NOT_FOUND");
    expect(error.message).toContain(
      `  - hub: not-found (${hub.url}/org/docs-only has no config.json and no GGUF file)`,
    );
  });

  it("accepts HF_ENDPOINT with a trailing slash and refuses one that is not a URL", async () => {
    expect(
      (await resolveModel("Qwen/Qwen3-0.6B", viaHub({ HF_ENDPOINT: `${hub.url}/` }))).origin.location,
    ).toBe(`${hub.url}/Qwen/Qwen3-0.6B`);
    const error = await caught(resolveModel("Qwen/Qwen3-0.6B", viaHub({ HF_ENDPOINT: "huggingface.co" })));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe('HF_ENDPOINT must be an http(s) URL, got "huggingface.co"');
  });

  it("does not look up aliases on the Hub, and refuses refs that are neither paths nor ids", async () => {
    const raw = await resolveModel(
      "qwen3-0.6b",
      viaHub({}, { catalogLookup: () => ({ id: "Qwen/Qwen3-0.6B", config: { model_type: "qwen3" } }) }),
    );
    expect(raw.attempts.map((a) => a.outcome)).toEqual(["not-found", "skipped", "skipped", "found"]);
    // An alias resolves to the repo id the catalog names; ref keeps what the user typed.
    expect(raw.id).toBe("Qwen/Qwen3-0.6B");
    expect(raw.ref).toBe("qwen3-0.6b");
    expect(hub.requests).toEqual([]);
    const error = await caught(resolveModel("not a model!", viaHub()));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toBe(
      '"not a model!" is neither an existing path nor a Hugging Face repo id (owner/name)',
    );
  });

  it("stops when the caller cancels", async () => {
    hub.setHang(true);
    const controller = new AbortController();
    const pending = resolveModel("Qwen/Qwen3-0.6B", viaHub({}, { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error("user cancelled")), 50);
    await expect(pending).rejects.toThrow("user cancelled");
  });
});
