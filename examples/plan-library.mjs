// servepilot as a library: plan Llama 3.1 8B on one H100 and print what vLLM would report.
// Run after `npm ci` (which builds dist/): node examples/plan-library.mjs
import { countParams, kvBytesPerToken, parseConfig, plan } from "servepilot";

const result = await plan({
  model: "meta-llama/Llama-3.1-8B-Instruct",
  gpu: "H100",
  maxModelLen: 16000,
  offline: true,
});
console.log(`fits: ${result.fits}`);
console.log(`Model loading took ${result.memory.perGpu.weightsGiB} GiB`);
console.log(`Available KV cache memory: ${result.memory.perGpu.kvCacheGiB} GiB`);
console.log(`GPU KV cache size: ${result.kvCache.tokens.toLocaleString("en-US")} tokens`);
console.log(`serve: ${result.artifacts.serveCommand}`);

// The pure pieces work on a config.json object too:
const { architecture } = parseConfig({
  model_type: "qwen3",
  hidden_size: 1024,
  intermediate_size: 3072,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  head_dim: 128,
  vocab_size: 151936,
  tie_word_embeddings: true,
});
console.log(
  `Qwen3-0.6B-like: ${countParams(architecture).total} params, ${kvBytesPerToken(architecture).bytesPerToken} KV bytes/token`,
);
