import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HubServer, startHubServer } from "../helpers/hub-server.js";
import { isolatedEnv, runCli, runCliAsync } from "../helpers/run-cli.js";
import { buildTinyQwen3Gguf } from "../runtime/models/write-gguf.js";
import { buildSafetensors, type TensorSpec } from "../runtime/models/write-safetensors.js";

/** A tiny but complete Llama checkpoint: config.json and tensors of the shapes it implies. */
const CONFIG = {
  model_type: "llama",
  architectures: ["LlamaForCausalLM"],
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 256,
  torch_dtype: "bfloat16",
};

function tensors(): TensorSpec[] {
  const t: TensorSpec[] = [
    { name: "model.embed_tokens.weight", dtype: "BF16", shape: [256, 64] },
    { name: "model.norm.weight", dtype: "BF16", shape: [64] },
    { name: "lm_head.weight", dtype: "BF16", shape: [256, 64] },
  ];
  for (let l = 0; l < 2; l++) {
    const p = `model.layers.${l}`;
    t.push(
      { name: `${p}.self_attn.q_proj.weight`, dtype: "BF16", shape: [64, 64] },
      { name: `${p}.self_attn.k_proj.weight`, dtype: "BF16", shape: [32, 64] },
      { name: `${p}.self_attn.v_proj.weight`, dtype: "BF16", shape: [32, 64] },
      { name: `${p}.self_attn.o_proj.weight`, dtype: "BF16", shape: [64, 64] },
      { name: `${p}.mlp.gate_proj.weight`, dtype: "BF16", shape: [128, 64] },
      { name: `${p}.mlp.up_proj.weight`, dtype: "BF16", shape: [128, 64] },
      { name: `${p}.mlp.down_proj.weight`, dtype: "BF16", shape: [64, 128] },
      { name: `${p}.input_layernorm.weight`, dtype: "BF16", shape: [64] },
      { name: `${p}.post_attention_layernorm.weight`, dtype: "BF16", shape: [64] },
    );
  }
  return t;
}
const EXACT_TOTAL = tensors().reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);

function writeCheckpoint(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(CONFIG));
  writeFileSync(join(dir, "model.safetensors"), buildSafetensors(tensors()));
}

describe("inspect: model sources", () => {
  let hub: HubServer;
  beforeAll(async () => {
    hub = await startHubServer([
      {
        id: "acme/tiny-llama",
        files: { "config.json": JSON.stringify(CONFIG), "model.safetensors": buildSafetensors(tensors()) },
      },
      {
        id: "acme/gated-llama",
        files: { "config.json": JSON.stringify(CONFIG) },
        gated: { token: "hf_secret" },
      },
    ]);
  });
  afterAll(() => hub.close());

  it("counts a local checkpoint exactly from its safetensors header", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "sp-ckpt-")), "tiny");
    writeCheckpoint(dir);
    const data = runCli(["inspect", dir, "--json"]).json().data;
    expect(data.model.origin.kind).toBe("local");
    expect(data.params.source).toBe("safetensors");
    expect(data.params.total).toBe(EXACT_TOTAL);
    expect(data.params.fromArchitecture).toBe(EXACT_TOTAL);
  });

  it("reads a model from the Hugging Face cache layout", () => {
    const env = isolatedEnv();
    const repo = join(env.HOME as string, ".cache/huggingface/hub/models--acme--cached-llama");
    mkdirSync(join(repo, "refs"), { recursive: true });
    writeFileSync(join(repo, "refs/main"), "0123456789abcdef0123456789abcdef01234567");
    writeCheckpoint(join(repo, "snapshots/0123456789abcdef0123456789abcdef01234567"));
    const data = runCli(["inspect", "acme/cached-llama", "--json"], env).json().data;
    expect(data.model.origin).toMatchObject({
      kind: "hf-cache",
      revision: "0123456789abcdef0123456789abcdef01234567",
    });
    expect(data.params.total).toBe(EXACT_TOTAL);
  });

  it("reads config.json and safetensors headers from the Hub (HF_ENDPOINT) with range requests", async () => {
    const env = isolatedEnv({ HF_ENDPOINT: hub.url });
    delete env.HF_HUB_OFFLINE;
    const result = await runCliAsync(["inspect", "acme/tiny-llama", "--json"], env);
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data.model.origin.kind).toBe("hub");
    expect(data.params).toMatchObject({ source: "safetensors", total: EXACT_TOTAL });
    expect(hub.requests.some((r) => r.range !== null)).toBe(true);
  });

  it("refuses a gated Hub model without a token: exit 7 with a hint", async () => {
    const env = isolatedEnv({ HF_ENDPOINT: hub.url });
    delete env.HF_HUB_OFFLINE;
    const result = await runCliAsync(["inspect", "acme/gated-llama", "--json"], env);
    expect(result.code).toBe(7);
    const { error } = result.json();
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.hint).toMatch(/HF_TOKEN/);
    const withToken = await runCliAsync(["inspect", "acme/gated-llama", "--json"], {
      ...env,
      HF_TOKEN: "hf_secret",
    });
    expect(withToken.code).toBe(0);
  });

  it("reads a GGUF file's metadata and counts its tensors", () => {
    const dir = mkdtempSync(join(tmpdir(), "sp-gguf-"));
    const file = join(dir, "tiny-qwen3-Q8_0.gguf");
    writeFileSync(file, buildTinyQwen3Gguf());
    const result = runCli(["inspect", file, "--json"]);
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data.architecture).toMatchObject({ modelType: "qwen3", numLayers: 2, hiddenSize: 64 });
    expect(data.params.source).toBe("gguf");
    expect(data.params.components.embeddings).toBe(64 * 2000);
    expect(data.weightBytes).toBeGreaterThan(0);
  });
});
