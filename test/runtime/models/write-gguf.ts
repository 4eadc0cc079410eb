/**
 * A GGUF v3 writer for tests, per https://github.com/ggml-org/ggml/blob/master/docs/gguf.md:
 * little-endian header, KV metadata, tensor infos, then 32-byte aligned zeroed tensor data.
 */
import { GGML_TYPE_SIZES } from "../../../src/core/model/gguf-config.js";

export type GgufValue =
  | { u32: number }
  | { i32: number }
  | { u64: bigint }
  | { f32: number }
  | { bool: boolean }
  | { str: string }
  | { strs: string[] }
  | { i32s: number[] }
  | { bools: boolean[] };

export interface GgufTensorSpec {
  name: string;
  /** GGUF order: ne[0] first. */
  shape: number[];
  ggmlType: string;
}

const GGML_TYPE_IDS: Record<string, number> = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q8_0: 8,
  Q4_K: 12,
  Q6_K: 14,
  BF16: 30,
};
const GGUF_ALIGNMENT = 32;

class ByteWriter {
  private readonly chunks: Uint8Array[] = [];
  length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.byteLength;
  }

  private scalar(size: number, set: (view: DataView) => void): void {
    const bytes = new Uint8Array(size);
    set(new DataView(bytes.buffer));
    this.push(bytes);
  }

  u32 = (value: number) => this.scalar(4, (v) => v.setUint32(0, value, true));
  i32 = (value: number) => this.scalar(4, (v) => v.setInt32(0, value, true));
  u64 = (value: bigint) => this.scalar(8, (v) => v.setBigUint64(0, value, true));
  f32 = (value: number) => this.scalar(4, (v) => v.setFloat32(0, value, true));
  u8 = (value: number) => this.scalar(1, (v) => v.setUint8(0, value));
  zeros = (count: number) => this.push(new Uint8Array(count));

  str(value: string): void {
    const bytes = new TextEncoder().encode(value);
    this.u64(BigInt(bytes.byteLength));
    this.push(bytes);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}

function writeArray(w: ByteWriter, elementType: number, count: number, writeAll: () => void): void {
  w.u32(9);
  w.u32(elementType);
  w.u64(BigInt(count));
  writeAll();
}

/** GGUFValueType ids: 4 UINT32, 5 INT32, 6 FLOAT32, 7 BOOL, 8 STRING, 9 ARRAY, 10 UINT64. */
function writeValue(w: ByteWriter, value: GgufValue): void {
  if ("u32" in value) {
    w.u32(4);
    w.u32(value.u32);
  } else if ("i32" in value) {
    w.u32(5);
    w.i32(value.i32);
  } else if ("f32" in value) {
    w.u32(6);
    w.f32(value.f32);
  } else if ("bool" in value) {
    w.u32(7);
    w.u8(value.bool ? 1 : 0);
  } else if ("str" in value) {
    w.u32(8);
    w.str(value.str);
  } else if ("u64" in value) {
    w.u32(10);
    w.u64(value.u64);
  } else if ("strs" in value) {
    writeArray(w, 8, value.strs.length, () => {
      for (const s of value.strs) w.str(s);
    });
  } else if ("i32s" in value) {
    writeArray(w, 5, value.i32s.length, () => {
      for (const n of value.i32s) w.i32(n);
    });
  } else {
    writeArray(w, 7, value.bools.length, () => {
      for (const b of value.bools) w.u8(b ? 1 : 0);
    });
  }
}

function tensorBytes(tensor: GgufTensorSpec): number {
  const size = GGML_TYPE_SIZES[tensor.ggmlType];
  if (!size) throw new Error(`test GGUF writer: no size for ${tensor.ggmlType}`);
  const [row = 1, ...rest] = tensor.shape;
  return Math.ceil(row / size.blockSize) * size.typeSize * rest.reduce((p, d) => p * d, 1);
}

const pad = (n: number) => (GGUF_ALIGNMENT - (n % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;

/** A complete GGUF v3 file with zeroed tensor data. */
export function buildGguf(
  metadata: Record<string, GgufValue>,
  tensors: readonly GgufTensorSpec[],
): Uint8Array {
  const w = new ByteWriter();
  w.u32(0x46554747); // "GGUF" read as a little-endian u32
  w.u32(3);
  w.u64(BigInt(tensors.length));
  w.u64(BigInt(Object.keys(metadata).length));
  for (const [key, value] of Object.entries(metadata)) {
    w.str(key);
    writeValue(w, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    w.str(tensor.name);
    w.u32(tensor.shape.length);
    for (const dim of tensor.shape) w.u64(BigInt(dim));
    const typeId = GGML_TYPE_IDS[tensor.ggmlType];
    if (typeId === undefined) throw new Error(`test GGUF writer: no type id for ${tensor.ggmlType}`);
    w.u32(typeId);
    w.u64(BigInt(offset));
    offset += tensorBytes(tensor);
    offset += pad(offset);
  }
  w.zeros(pad(w.length));
  w.zeros(offset);
  return w.bytes();
}

/** A tiny Qwen3-shaped GGUF (2 blocks) with a token list long enough to be summarized away. */
export function buildTinyQwen3Gguf(
  options: { vocab?: number; extra?: Record<string, GgufValue> } = {},
): Uint8Array {
  const vocab = options.vocab ?? 2000;
  const tokens = Array.from({ length: vocab }, (_, i) => `t${i}`);
  return buildGguf(
    {
      "general.architecture": { str: "qwen3" },
      "general.name": { str: "Tiny Qwen3" },
      "general.file_type": { u32: 15 },
      "qwen3.block_count": { u32: 2 },
      "qwen3.context_length": { u32: 40960 },
      "qwen3.embedding_length": { u32: 64 },
      "qwen3.feed_forward_length": { u32: 256 },
      "qwen3.attention.head_count": { u32: 4 },
      "qwen3.attention.head_count_kv": { u32: 2 },
      "qwen3.attention.key_length": { u32: 32 },
      "qwen3.attention.value_length": { u32: 32 },
      "qwen3.rope.freq_base": { f32: 1_000_000 },
      "qwen3.attention.layer_norm_rms_epsilon": { f32: 1e-6 },
      "tokenizer.ggml.model": { str: "gpt2" },
      "tokenizer.ggml.tokens": { strs: tokens },
      "tokenizer.ggml.bos_token_id": { u32: 1 },
      "split.count": { u64: 0n },
      ...options.extra,
    },
    [
      { name: "token_embd.weight", shape: [64, vocab], ggmlType: "Q8_0" },
      { name: "blk.0.attn_q.weight", shape: [64, 128], ggmlType: "Q8_0" },
      { name: "blk.0.attn_norm.weight", shape: [64], ggmlType: "F32" },
      { name: "blk.1.ffn_down.weight", shape: [256, 64], ggmlType: "Q4_K" },
      { name: "blk.1.ffn_up.weight", shape: [64, 256], ggmlType: "F16" },
    ],
  );
}
