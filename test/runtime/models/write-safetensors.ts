/**
 * A safetensors writer for tests, per the format (https://huggingface.co/docs/safetensors/index#format):
 * 8-byte little-endian header length, JSON header, then zeroed tensor data.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

const SAFETENSORS_DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  F8_E4M3: 1,
  BOOL: 1,
};

export interface TensorSpec {
  name: string;
  dtype: string;
  shape: number[];
}

/** A complete safetensors file with zeroed data; the header is space-padded to 8 bytes like the reference writer. */
export function buildSafetensors(
  tensors: readonly TensorSpec[],
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    const bytes =
      tensor.shape.reduce((product, dim) => product * dim, 1) * (SAFETENSORS_DTYPE_BYTES[tensor.dtype] ?? 1);
    header[tensor.name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const file = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  file.set(headerBytes, 8);
  return file;
}

/** A few tensors shaped like a (very) small Qwen3 checkpoint. */
export function qwen3LikeTensors(layers: number): TensorSpec[] {
  const tensors: TensorSpec[] = [{ name: "model.embed_tokens.weight", dtype: "BF16", shape: [64, 16] }];
  for (let i = 0; i < layers; i++) {
    tensors.push(
      { name: `model.layers.${i}.self_attn.q_proj.weight`, dtype: "BF16", shape: [32, 16] },
      { name: `model.layers.${i}.self_attn.k_proj.weight`, dtype: "BF16", shape: [16, 16] },
      { name: `model.layers.${i}.self_attn.q_norm.weight`, dtype: "BF16", shape: [8] },
      { name: `model.layers.${i}.mlp.down_proj.weight`, dtype: "BF16", shape: [16, 48] },
    );
  }
  tensors.push({ name: "model.norm.weight", dtype: "BF16", shape: [16] });
  return tensors;
}

export function sumElements(tensors: readonly TensorSpec[]): number {
  return tensors.reduce((sum, t) => sum + t.shape.reduce((product, dim) => product * dim, 1), 0);
}

/** Writes a sharded checkpoint (index + shards) into `dir`; returns the shard names. */
export async function writeShardedSafetensors(
  dir: string,
  shards: readonly TensorSpec[][],
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const names = shards.map(
    (_, i) =>
      `model-${String(i + 1).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.safetensors`,
  );
  const weightMap: Record<string, string> = {};
  for (const [i, tensors] of shards.entries()) {
    const name = names[i] as string;
    await writeFile(join(dir, name), buildSafetensors(tensors));
    for (const tensor of tensors) weightMap[tensor.name] = name;
  }
  await writeFile(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2),
  );
  return names;
}
