// Gateway figures (run with `node --import tsx bench/gateway.ts` after `npm run build`; `npm run bench`
// does it). A `servepilot studio` process launches the vLLM emulator (a real loopback engine process
// speaking vLLM's OpenAI API; with `ignore_eos` it generates exactly max_tokens tokens), then the
// same requests go to the engine directly and through the studio's /v1 gateway:
//  - added latency: non-streamed 1-token chat requests, one at a time, direct and gateway
//    interleaved; the added latency is p50 (p99) through the gateway minus p50 (p99) direct, per
//    round; the median over rounds is printed;
//  - streamed throughput: C concurrent streams of T tokens each (C = 1, 16, 64), tokens received per
//    second through the gateway / direct (median over rounds). The engine paces tokens
//    (BENCH_TOKEN_DELAY_MS, default 5 ms: 200 tokens/s per stream, the pace of a real engine) so
//    that the ratio measures what the gateway costs a stream, not which process wins the CPU.
// Prints figures; no assertion. The client, the studio and the engine share this machine's cores.
// The studio runs with --stop-engines, so the engine ends with it.
import { mkdirSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { percentilesOf } from "../src/core/stats/percentile.js";
import { benchEnvironment, FIXTURES, median, sleep, startStudio, stopStudio } from "./studio-process.js";

const ROUNDS = Number(process.env.BENCH_RUNS ?? 5);
const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 300);
const STREAM_TOKENS = Number(process.env.BENCH_STREAM_TOKENS ?? 256);
const TOKEN_DELAY_MS = process.env.BENCH_TOKEN_DELAY_MS ?? "5";
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? "1,16,64")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const MODEL = "Qwen/Qwen3-8B";

function environment(): NodeJS.ProcessEnv {
  return benchEnvironment("gateway", {
    SERVEPILOT_PORT: String(20_000 + Math.floor(Math.random() * 400) * 100),
    SERVEPILOT_VLLM_BIN: join(FIXTURES, "engines", "vllm-emulator.mjs"),
    EMULATOR_SCENARIO: "ok",
    EMULATOR_LINE_DELAY_MS: "0",
    EMULATOR_TOKEN_DELAY_MS: TOKEN_DELAY_MS,
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

/** POST JSON; resolves with the status and the number of SSE data events (or body bytes). */
function post(url: string, body: unknown): Promise<{ status: number; events: number }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        let events = 0;
        res.setEncoding("utf8");
        res.on("data", (text: string) => {
          for (let at = text.indexOf("data: "); at >= 0; at = text.indexOf("data: ", at + 6)) events += 1;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, events }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

async function json(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function launchEngine(url: string): Promise<string> {
  const launched = await json(`${url}/api/instances`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, timeoutSeconds: 120 }),
  });
  if (launched.status !== 202) throw new Error(`launch: ${launched.status} ${JSON.stringify(launched.body)}`);
  const name = launched.body.name as string;
  for (;;) {
    const view = await json(`${url}/api/instances/${name}`);
    if (view.body.status === "ready") return view.body.endpoint as string;
    if (view.body.status === "failed") throw new Error(`engine failed: ${JSON.stringify(view.body.failure)}`);
    await sleep(100);
  }
}

const chat = (maxTokens: number, stream: boolean) => ({
  model: MODEL,
  messages: [{ role: "user", content: "benchmark" }],
  max_tokens: maxTokens,
  ignore_eos: true,
  stream,
});

async function latencyRound(direct: string, gateway: string) {
  const times = { direct: [] as number[], gateway: [] as number[] };
  for (let i = 0; i < LATENCY_REQUESTS; i++) {
    for (const [which, base] of [
      ["direct", direct],
      ["gateway", gateway],
    ] as const) {
      const t0 = performance.now();
      const reply = await post(`${base}/v1/chat/completions`, chat(1, false));
      if (reply.status !== 200) throw new Error(`${which}: HTTP ${reply.status}`);
      times[which].push(performance.now() - t0);
    }
  }
  const [d50, d99] = percentilesOf(times.direct, [50, 99]) as number[];
  const [g50, g99] = percentilesOf(times.gateway, [50, 99]) as number[];
  return {
    p50: (g50 as number) - (d50 as number),
    p99: (g99 as number) - (d99 as number),
    direct50: d50 as number,
  };
}

async function streamRound(base: string, concurrency: number) {
  const t0 = performance.now();
  const replies = await Promise.all(
    Array.from({ length: concurrency }, () => post(`${base}/v1/chat/completions`, chat(STREAM_TOKENS, true))),
  );
  const seconds = (performance.now() - t0) / 1000;
  if (replies.some((r) => r.status !== 200)) throw new Error("a stream failed");
  // content events: all but the role chunk, the finish chunk and [DONE]
  const tokens = replies.reduce((sum, r) => sum + r.events - 3, 0);
  return tokens / seconds;
}

const results: Record<string, unknown> = {
  ranAt: new Date().toISOString(),
  node: process.version,
  rounds: ROUNDS,
  tokenDelayMs: Number(TOKEN_DELAY_MS),
};
const env = environment();
const studio = await startStudio(env, ["--stop-engines"]);
try {
  const direct = await launchEngine(studio.url);
  const gateway = `${studio.url}`;
  // warm both paths (connections, JIT)
  for (let i = 0; i < 50; i++) {
    await post(`${direct}/v1/chat/completions`, chat(1, false));
    await post(`${gateway}/v1/chat/completions`, chat(1, false));
  }
  console.log(
    `gateway vs direct, ${ROUNDS} rounds (node ${process.version}; engine: vLLM emulator, ${TOKEN_DELAY_MS} ms per token)`,
  );
  const latency = [];
  for (let r = 0; r < ROUNDS; r++) latency.push(await latencyRound(direct, gateway));
  console.log(
    `${"added latency per request, p50".padEnd(52)} ${median(latency.map((l) => l.p50)).toFixed(3)} ms (direct p50 ${median(latency.map((l) => l.direct50)).toFixed(3)} ms; ${LATENCY_REQUESTS} requests per round)`,
  );
  console.log(
    `${"added latency per request, p99".padEnd(52)} ${median(latency.map((l) => l.p99)).toFixed(3)} ms`,
  );
  results.addedLatencyMs = {
    p50: median(latency.map((l) => l.p50)),
    p99: median(latency.map((l) => l.p99)),
    directP50: median(latency.map((l) => l.direct50)),
    requestsPerRound: LATENCY_REQUESTS,
  };
  const streams: Record<string, unknown> = {};
  results.streamedThroughput = streams;
  for (const concurrency of CONCURRENCIES) {
    const ratios: number[] = [];
    const rates: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const d = await streamRound(direct, concurrency);
      const g = await streamRound(gateway, concurrency);
      ratios.push(g / d);
      rates.push(g);
    }
    streams[String(concurrency)] = {
      ratio: median(ratios),
      gatewayTokensPerSecond: median(rates),
      tokensPerStream: STREAM_TOKENS,
    };
    console.log(
      `${`streamed throughput gateway/direct, ${concurrency} streams`.padEnd(52)} ${median(ratios).toFixed(3)} (${median(rates).toFixed(0)} tokens/s through the gateway, ${STREAM_TOKENS} tokens per stream)`,
    );
  }
} finally {
  await stopStudio(studio);
}
const resultsDir = new URL("./results/", import.meta.url).pathname;
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${resultsDir}gateway.json`, `${JSON.stringify(results, null, 2)}\n`);
