// In-process cost of `fit`: every catalog GPU x tensor-parallel sizes 1-8 x precisions (native, fp8,
// fp8 + fp8 KV), for a few models. Median of several runs; no assertion.
import {
  describeModel,
  fitAcrossCatalog,
  loadEngineCatalog,
  loadGpuCatalog,
  loadModelCatalog,
} from "../dist/index.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const [models, gpus, engines] = await Promise.all([
  loadModelCatalog(),
  loadGpuCatalog(),
  loadEngineCatalog(),
]);

console.log(`fit over ${gpus.length} GPUs x TP 1-8 x 3 precisions, ${RUNS} runs each`);
for (const id of [
  "meta-llama/Llama-3.1-8B-Instruct",
  "meta-llama/Llama-3.3-70B-Instruct",
  "deepseek-ai/DeepSeek-V3",
  "openai/gpt-oss-120b",
]) {
  const entry = models.find(id);
  const { architecture } = describeModel({ config: entry.config, label: id });
  const times = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    rows = fitAcrossCatalog({
      arch: architecture,
      gpus,
      vllmSpecs: engines.vllm,
      engineVersion: "0.33.0",
    }).length;
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${id.padEnd(40)} median ${times[Math.floor(times.length / 2)].toFixed(1)} ms (min ${times[0].toFixed(1)}, max ${times.at(-1).toFixed(1)}), ${rows} options`,
  );
}
