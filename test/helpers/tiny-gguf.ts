/**
 * Writes a tiny llama-architecture GGUF (v3) model with seeded random f32 weights, small enough to
 * generate in every test run (about 450 KB): 64-wide, 2 layers, 4 query heads over 2 KV heads, a
 * byte-level BPE ("gpt2") tokenizer with the 256 byte tokens, a few merges and ChatML special
 * tokens, and a ChatML `tokenizer.chat_template`. The output is gibberish, but every token is real:
 * llama.cpp loads it, tokenizes, decodes and samples as it would a published model.
 *
 * Format: ggml-org/llama.cpp docs/gguf.md and gguf-py/gguf/constants.py (value types, key names);
 * tensor names and shapes as llama.cpp src/llama-arch.cpp / llama-model.cpp expect for LLM_ARCH_LLAMA
 * (ggml order: ne0 first, e.g. attn_k is [n_embd, n_head_kv * head_dim]).
 *
 * The output rows of the special tokens are zero, so with random weights their logits sit far below
 * the top candidates and generation never ends early on an end-of-generation token: a request runs
 * to max_tokens or to a stop string, which the tests rely on.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface TinyGgufOptions {
  /** File name inside the directory (default "tiny-llama.gguf"). */
  fileName?: string;
  /** Seed of the weights (default 1). The same seed always writes the same bytes. */
  seed?: number;
  /** llama.context_length (default 512). */
  contextLength?: number;
  /** tokenizer.chat_template; null leaves it out (default: a ChatML template). */
  chatTemplate?: string | null;
}

export const TINY_CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const N_EMBD = 64;
const N_LAYER = 2;
const N_HEAD = 4;
const N_HEAD_KV = 2;
const HEAD_DIM = N_EMBD / N_HEAD;
const N_FF = 128;
const ALIGNMENT = 32;

/** Merges of byte-level BPE tokens ("Ġ" is the space byte); each adds its merged token. */
const MERGES: ReadonlyArray<readonly [string, string]> = [
  ["Ġ", "t"],
  ["h", "e"],
  ["i", "n"],
  ["e", "r"],
  ["a", "n"],
  ["o", "n"],
  ["Ġ", "a"],
  ["r", "e"],
  ["Ġ", "s"],
  ["Ġt", "he"],
];
const SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] as const;

// GGUF metadata value types (gguf-py GGUFValueType) and ggml tensor types.
const GGUF_UINT32 = 4;
const GGUF_INT32 = 5;
const GGUF_FLOAT32 = 6;
const GGUF_BOOL = 7;
const GGUF_STRING = 8;
const GGUF_ARRAY = 9;
const GGML_TYPE_F32 = 0;
// llama_token_type: normal and control tokens.
const TOKEN_NORMAL = 1;
const TOKEN_CONTROL = 3;

type MetadataValue =
  | { type: "u32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: readonly string[] }
  | { type: "i32[]"; value: readonly number[] };

interface Tensor {
  name: string;
  /** ggml order: ne0 (contiguous) first. */
  dims: readonly number[];
  data: Float32Array;
}

/** Writes the model into `dir` (created when missing); returns the file path. */
export async function writeTinyGguf(dir: string, options: TinyGgufOptions = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, options.fileName ?? "tiny-llama.gguf");
  await writeFile(path, buildTinyGguf(options));
  return path;
}

/** The bytes of the model file. */
export function buildTinyGguf(options: TinyGgufOptions = {}): Buffer {
  const vocab = buildVocabulary();
  const tensors = buildTensors(vocab.tokens.length, vocab.firstSpecialId, options.seed ?? 1);
  const metadata = buildMetadata(vocab, options);
  return encodeGguf(metadata, tensors);
}

interface Vocabulary {
  tokens: string[];
  types: number[];
  merges: string[];
  firstSpecialId: number;
}

/** GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others map to U+0100 onwards. */
function byteToUnicode(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const table: string[] = [];
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    table.push(String.fromCodePoint(printable(byte) ? byte : next++));
  }
  return table;
}

function buildVocabulary(): Vocabulary {
  const tokens = byteToUnicode();
  const types = tokens.map(() => TOKEN_NORMAL);
  for (const [left, right] of MERGES) {
    tokens.push(left + right);
    types.push(TOKEN_NORMAL);
  }
  const firstSpecialId = tokens.length;
  for (const special of SPECIAL_TOKENS) {
    tokens.push(special);
    types.push(TOKEN_CONTROL);
  }
  return { tokens, types, merges: MERGES.map(([left, right]) => `${left} ${right}`), firstSpecialId };
}

function buildMetadata(vocab: Vocabulary, options: TinyGgufOptions): Array<[string, MetadataValue]> {
  const u32 = (value: number): MetadataValue => ({ type: "u32", value });
  const idOf = (token: string) => vocab.tokens.indexOf(token);
  const entries: Array<[string, MetadataValue]> = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: "servepilot tiny llama (random weights)" }],
    ["general.alignment", u32(ALIGNMENT)],
    ["llama.context_length", u32(options.contextLength ?? 512)],
    ["llama.embedding_length", u32(N_EMBD)],
    ["llama.block_count", u32(N_LAYER)],
    ["llama.feed_forward_length", u32(N_FF)],
    ["llama.attention.head_count", u32(N_HEAD)],
    ["llama.attention.head_count_kv", u32(N_HEAD_KV)],
    ["llama.attention.layer_norm_rms_epsilon", { type: "f32", value: 1e-5 }],
    ["llama.rope.dimension_count", u32(HEAD_DIM)],
    ["llama.rope.freq_base", { type: "f32", value: 10000 }],
    ["llama.vocab_size", u32(vocab.tokens.length)],
    ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
    ["tokenizer.ggml.pre", { type: "string", value: "default" }],
    ["tokenizer.ggml.tokens", { type: "string[]", value: vocab.tokens }],
    ["tokenizer.ggml.token_type", { type: "i32[]", value: vocab.types }],
    ["tokenizer.ggml.merges", { type: "string[]", value: vocab.merges }],
    ["tokenizer.ggml.bos_token_id", u32(idOf("<|endoftext|>"))],
    ["tokenizer.ggml.eos_token_id", u32(idOf("<|im_end|>"))],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: false }],
  ];
  const template = options.chatTemplate === undefined ? TINY_CHATML_TEMPLATE : options.chatTemplate;
  if (template !== null) entries.push(["tokenizer.chat_template", { type: "string", value: template }]);
  return entries;
}

/** mulberry32: a small seeded PRNG, enough for reproducible weights. */
function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildTensors(nVocab: number, firstSpecialId: number, seed: number): Tensor[] {
  const random = seededUniform(seed);
  const uniform = (count: number, scale: number) =>
    Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);
  const ones = (count: number) => new Float32Array(count).fill(1);
  const matrix = (name: string, cols: number, rows: number, scale: number): Tensor => ({
    name,
    dims: [cols, rows],
    data: uniform(cols * rows, scale),
  });
  const kvWidth = N_HEAD_KV * HEAD_DIM;

  const output = matrix("output.weight", N_EMBD, nVocab, 0.8);
  // Zero rows for the special tokens (see the file comment).
  output.data.fill(0, firstSpecialId * N_EMBD);

  const tensors: Tensor[] = [matrix("token_embd.weight", N_EMBD, nVocab, 1)];
  for (let layer = 0; layer < N_LAYER; layer++) {
    const blk = `blk.${layer}`;
    tensors.push(
      { name: `${blk}.attn_norm.weight`, dims: [N_EMBD], data: ones(N_EMBD) },
      matrix(`${blk}.attn_q.weight`, N_EMBD, N_EMBD, 0.2),
      matrix(`${blk}.attn_k.weight`, N_EMBD, kvWidth, 0.2),
      matrix(`${blk}.attn_v.weight`, N_EMBD, kvWidth, 0.2),
      matrix(`${blk}.attn_output.weight`, N_EMBD, N_EMBD, 0.2),
      { name: `${blk}.ffn_norm.weight`, dims: [N_EMBD], data: ones(N_EMBD) },
      matrix(`${blk}.ffn_gate.weight`, N_EMBD, N_FF, 0.2),
      matrix(`${blk}.ffn_up.weight`, N_EMBD, N_FF, 0.2),
      matrix(`${blk}.ffn_down.weight`, N_FF, N_EMBD, 0.2),
    );
  }
  tensors.push({ name: "output_norm.weight", dims: [N_EMBD], data: ones(N_EMBD) }, output);
  return tensors;
}

/** Appends little-endian GGUF values to a list of chunks. */
class GgufWriter {
  readonly chunks: Buffer[] = [];
  length = 0;

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  u32(value: number): void {
    const chunk = Buffer.alloc(4);
    chunk.writeUInt32LE(value);
    this.push(chunk);
  }

  i32(value: number): void {
    const chunk = Buffer.alloc(4);
    chunk.writeInt32LE(value);
    this.push(chunk);
  }

  u64(value: number): void {
    const chunk = Buffer.alloc(8);
    chunk.writeBigUInt64LE(BigInt(value));
    this.push(chunk);
  }

  f32(value: number): void {
    const chunk = Buffer.alloc(4);
    chunk.writeFloatLE(value);
    this.push(chunk);
  }

  string(value: string): void {
    const bytes = Buffer.from(value, "utf8");
    this.u64(bytes.length);
    this.push(bytes);
  }

  bytes(value: Buffer): void {
    this.push(value);
  }

  padTo(alignment: number): void {
    const padding = (alignment - (this.length % alignment)) % alignment;
    if (padding > 0) this.push(Buffer.alloc(padding));
  }
}

function writeValue(out: GgufWriter, value: MetadataValue): void {
  switch (value.type) {
    case "u32":
      out.u32(GGUF_UINT32);
      out.u32(value.value);
      return;
    case "f32":
      out.u32(GGUF_FLOAT32);
      out.f32(value.value);
      return;
    case "bool":
      out.u32(GGUF_BOOL);
      out.bytes(Buffer.from([value.value ? 1 : 0]));
      return;
    case "string":
      out.u32(GGUF_STRING);
      out.string(value.value);
      return;
    case "string[]":
      out.u32(GGUF_ARRAY);
      out.u32(GGUF_STRING);
      out.u64(value.value.length);
      for (const item of value.value) out.string(item);
      return;
    case "i32[]":
      out.u32(GGUF_ARRAY);
      out.u32(GGUF_INT32);
      out.u64(value.value.length);
      for (const item of value.value) out.i32(item);
      return;
  }
}

function encodeGguf(metadata: Array<[string, MetadataValue]>, tensors: Tensor[]): Buffer {
  const out = new GgufWriter();
  out.bytes(Buffer.from("GGUF", "ascii"));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, value] of metadata) {
    out.string(key);
    writeValue(out, value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const tensor of tensors) {
    offsets.push(offset);
    out.string(tensor.name);
    out.u32(tensor.dims.length);
    for (const dim of tensor.dims) out.u64(dim);
    out.u32(GGML_TYPE_F32);
    out.u64(offset);
    offset += Math.ceil(tensor.data.byteLength / ALIGNMENT) * ALIGNMENT;
  }
  out.padTo(ALIGNMENT);
  const dataStart = out.length;
  tensors.forEach((tensor, index) => {
    out.padTo(ALIGNMENT);
    if (out.length - dataStart !== offsets[index]) throw new Error(`misaligned tensor ${tensor.name}`);
    out.bytes(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  });
  return Buffer.concat(out.chunks, out.length);
}
