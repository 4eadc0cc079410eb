import type { Architecture, AttentionKind } from "./architecture.js";

export interface KvBytesPerToken {
  /** KV bytes one token adds across all layers, before any sliding-window or chunk cap. */
  bytesPerToken: number;
  /** Per attention kind: layers and bytes per token they hold. */
  byKind: Partial<Record<AttentionKind, { layers: number; bytesPerToken: number }>>;
  /** Fixed recurrent state per sequence for linear-attention layers (bytes), 0 when none. */
  stateBytesPerSequence: number;
  dtypeBytes: number;
}

/**
 * KV bytes per token for one replica (no tensor-parallel split), per layer kind:
 * - full / sliding / chunked attention: K and V per KV head, `num_kv_heads x (head_dim + v_head_dim)`
 *   (vllm/v1/kv_cache_interface.py FullAttentionSpec.page_size_bytes divided by block_size);
 * - MLA: one latent of `kv_lora_rank + qk_rope_head_dim` per token, shared by all heads
 *   (MLAAttentionSpec in the same file);
 * - linear attention and cross-attention: nothing per generated token (a fixed state per sequence
 *   for linear attention: the conv state plus the `heads x key_dim x value_dim` recurrent state).
 */
export function kvBytesPerToken(arch: Architecture, dtypeBytes = 2): KvBytesPerToken {
  const a = arch.attention;
  const byKind: KvBytesPerToken["byKind"] = {};
  let bytesPerToken = 0;
  let stateBytesPerSequence = 0;
  for (const layer of arch.layers) {
    let bytes = 0;
    if (layer.attention === "mla" && a.mla) {
      bytes = (a.mla.kvLoraRank + a.mla.qkRopeHeadDim) * dtypeBytes;
    } else if (layer.attention === "linear" && a.linear) {
      const l = a.linear;
      const convDim = 2 * l.numKeyHeads * l.keyHeadDim + l.numValueHeads * l.valueHeadDim;
      stateBytesPerSequence +=
        (convDim * (l.convKernelSize - 1) + l.numValueHeads * l.keyHeadDim * l.valueHeadDim) * dtypeBytes;
    } else if (layer.attention !== "cross") {
      bytes = a.numKvHeads * (a.headDim + a.vHeadDim) * dtypeBytes;
    }
    const entry = byKind[layer.attention] ?? { layers: 0, bytesPerToken: 0 };
    entry.layers += 1;
    entry.bytesPerToken += bytes;
    byKind[layer.attention] = entry;
    bytesPerToken += bytes;
  }
  return { bytesPerToken, byKind, stateBytesPerSequence, dtypeBytes };
}
