import type { VllmSpec } from "../engines/vllm-spec.js";
import type { Architecture, AttentionKind, LayerSpec } from "../model/architecture.js";
import { kvHeadsPerRank } from "./vllm-weights.js";

/**
 * vLLM V1 KV-cache layout on one rank: page sizes per layer kind (vllm/v1/kv_cache_interface.py),
 * grouping of hybrid models (vllm/v1/core/kv_cache_utils.py get_kv_cache_groups), blocks, tokens and
 * concurrency (get_num_blocks, get_max_concurrency_for_kv_cache_config, _report_kv_cache_config), and
 * the one-request check with its estimated maximum length (_check_enough_kv_cache_memory).
 */
export interface KvLayoutInput {
  arch: Architecture;
  /** The decoder layers on this rank (its pipeline stage). */
  layers: readonly LayerSpec[];
  tensorParallelSize: number;
  kvDtypeBytes: number;
  blockSize: number;
  maxModelLen: number;
  maxNumBatchedTokens: number;
  /** Hybrid allocator on (>= 0.9.1 with sliding/chunked/Mamba layers); off stores them as full attention. */
  hybridAllocator: boolean;
}

/** One KV cache group: layers of one spec, sharing block tables. */
interface KvGroup {
  kind: AttentionKind;
  /** Layers of this kind in the group (padding slots excluded). */
  layers: number;
  /** Blocks one request of `len` tokens needs in this group. */
  blocksFor: (len: number) => number;
}

export interface KvLayout {
  /** Bytes of one block of one layer (unified across groups). */
  pageBytes: number;
  /** Block size of attention layers after hybrid alignment. */
  blockSize: number;
  /** Layers per group (memory pools); num_blocks = available / pageBytes / groupSize. */
  groupSize: number;
  groups: KvGroup[];
  /** KV bytes one token costs on this rank across its attention layers (no window caps). */
  bytesPerToken: number;
  /** Padding layers added to fill groups (bytes wasted per block = padding x page). */
  paddingLayers: number;
}

function attentionBytesPerToken(
  arch: Architecture,
  kind: AttentionKind,
  tp: number,
  dtypeBytes: number,
): number {
  const a = arch.attention;
  if (kind === "mla" && a.mla) return (a.mla.kvLoraRank + a.mla.qkRopeHeadDim) * dtypeBytes; // latent, not split by TP
  if (kind === "linear" || kind === "cross") return 0;
  return kvHeadsPerRank(a.numKvHeads, tp) * (a.headDim + a.vHeadDim) * dtypeBytes;
}

/** Gated DeltaNet state per sequence on one rank: conv state plus recurrent state (MambaSpec). */
function linearStateBytes(arch: Architecture, tp: number, dtypeBytes: number): number {
  const l = arch.attention.linear;
  if (!l) return 0;
  const convDim = (2 * l.numKeyHeads * l.keyHeadDim + l.numValueHeads * l.valueHeadDim) / tp;
  const recurrent = (l.numValueHeads / tp) * l.keyHeadDim * l.valueHeadDim;
  return (convDim * (l.convKernelSize - 1) + recurrent) * dtypeBytes;
}

export function buildKvLayout(input: KvLayoutInput): KvLayout {
  const { arch, tensorParallelSize: tp, kvDtypeBytes } = input;
  const T = input.maxNumBatchedTokens;
  const counts = new Map<AttentionKind, number>();
  for (const layer of input.layers) {
    let kind = layer.attention;
    if (kind === "cross") continue; // cross-attention KV is bounded by the encoder, not by text tokens
    if (!input.hybridAllocator && (kind === "sliding" || kind === "chunked")) kind = "full";
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const attentionKind = [...counts.keys()].find((kind) => kind !== "linear") ?? "full";
  const perToken = attentionBytesPerToken(arch, attentionKind, tp, kvDtypeBytes);
  let blockSize = input.blockSize;
  const stateBytes = counts.has("linear") ? linearStateBytes(arch, tp, kvDtypeBytes) : 0;
  if (stateBytes > 0 && perToken > 0 && blockSize * perToken < stateBytes) {
    // _align_hybrid_block_size: raise the attention block until one page holds a Mamba state
    blockSize = Math.ceil(stateBytes / perToken / 16) * 16;
  }
  const pageBytes = perToken > 0 ? blockSize * perToken : stateBytes;
  const window = arch.attention.slidingWindow ?? input.maxModelLen;
  const chunk = arch.attention.chunkSize ?? input.maxModelLen;
  const needFor: Record<AttentionKind, (len: number) => number> = {
    full: (len) => Math.ceil(len / blockSize),
    mla: (len) => Math.ceil(len / blockSize),
    sliding: (len) => Math.ceil(Math.min(window - 1 + T, len) / blockSize) + 1,
    chunked: (len) => Math.ceil(Math.min(chunk + T, len) / blockSize),
    linear: () => 1,
    cross: () => 0,
  };
  const typeCounts = [...counts.values()];
  const min = Math.min(...typeCounts);
  const max = Math.max(...typeCounts);
  // group size: the fewest layers of a type, or the most when max < 1.5 x min (kv_cache_utils.py, #36684)
  const groupSize = typeCounts.length <= 1 ? (typeCounts[0] ?? 0) : max < 1.5 * min ? max : min;
  const groups: KvGroup[] = [];
  let paddingLayers = 0;
  for (const [kind, count] of counts) {
    const n = Math.ceil(count / groupSize);
    paddingLayers += n * groupSize - count;
    for (let i = 0; i < n; i++) {
      groups.push({ kind, layers: Math.min(groupSize, count - i * groupSize), blocksFor: needFor[kind] });
    }
  }
  let bytesPerToken = 0;
  for (const [kind, count] of counts)
    bytesPerToken += count * attentionBytesPerToken(arch, kind, tp, kvDtypeBytes);
  return { pageBytes, blockSize, groupSize, groups, bytesPerToken, paddingLayers };
}

/** Blocks one request of `len` tokens needs across all groups. */
export function blocksPerRequest(layout: KvLayout, len: number): number {
  return layout.groups.reduce((sum, group) => sum + group.blocksFor(len), 0);
}

/** Bytes one request of `len` tokens needs (padding slots counted, as vLLM >= #33698 does). */
export function bytesPerRequest(layout: KvLayout, len: number): number {
  return layout.groupSize * layout.pageBytes * blocksPerRequest(layout, len);
}

export interface KvCapacityResult {
  numBlocks: number;
  tokens: number;
  maxConcurrency: number;
}

export function kvCapacity(
  layout: KvLayout,
  availableBytes: number,
  maxModelLen: number,
  spec: VllmSpec,
): KvCapacityResult {
  if (layout.groupSize === 0 || layout.pageBytes === 0) return { numBlocks: 1, tokens: 0, maxConcurrency: 0 };
  const numBlocks = Math.max(0, Math.floor(availableBytes / layout.pageBytes / layout.groupSize));
  const concurrencyNew = numBlocks / blocksPerRequest(layout, maxModelLen);
  let tokens: number;
  switch (spec.tokensFormula) {
    case "blocks-x-block-size":
      tokens = numBlocks * layout.blockSize;
      break;
    case "blocks-per-group-x-block-size":
      tokens = Math.floor(numBlocks / layout.groups.length) * layout.blockSize;
      break;
    case "concurrency-x-len":
      tokens = Math.floor(concurrencyNew * maxModelLen);
      break;
  }
  const maxConcurrency =
    spec.concurrencyFormula === "tokens-over-len" ? tokens / maxModelLen : concurrencyNew;
  return { numBlocks, tokens, maxConcurrency };
}

/** vLLM's estimated maximum model length: binary search of the one-request need over 1..maxModelLen. */
export function estimateMaxModelLen(layout: KvLayout, availableBytes: number, maxModelLen: number): number {
  let low = 1;
  let high = maxModelLen;
  let best = 0;
  while (low <= high) {
    const mid = Math.floor((low + high) / 2);
    if (bytesPerRequest(layout, mid) <= availableBytes) {
      best = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return best;
}
