import type { SchedulerPolicy } from "./scheduler.js";

/** What one forward step computes: the decoding sequences and the prompt chunks scheduled with them. */
export interface StepLoad {
  /** Sequences that produce one token each. */
  decodeSeqs: number;
  /** Tokens of KV cache those sequences attend to, summed. */
  decodeContext: number;
  /** Prompt tokens computed in this step (all chunks). */
  prefillTokens: number;
  /** Prompt chunks: `tokens` computed now, after `before` tokens of the same prompt computed earlier. */
  chunks: ReadonlyArray<{ tokens: number; before: number }>;
}

export interface SimulationInput {
  promptTokens: number;
  genTokens: number;
  /** Users of the closed loop (each sends its next request when the last one finishes), or the batch. */
  clients: number;
  /** Requests the engine runs at once (max_num_seqs, and what the KV cache holds). */
  maxRunning: number;
  policy: SchedulerPolicy;
  /** false: a static batch (`clients` requests start together, none follows). */
  replace: boolean;
  /** Open-loop arrival times in seconds (Poisson runs); when set, `clients` and `replace` are ignored. */
  arrivals?: readonly number[];
  /** When each user of a closed loop sends its first request (default: all at 0). */
  startTimes?: readonly number[];
  /** Requests issued in all. */
  requests: number;
  /** Requests with a lower index are warm-up and not measured. */
  measureFrom: number;
  stepSeconds: (load: StepLoad) => number;
}

export interface SimulationResult {
  /** Means over the measured requests, seconds. */
  ttft: number;
  tpot: number;
  e2e: number;
  /** Generated tokens per second over the measured requests. */
  throughput: number;
  /** Forward steps simulated (decode runs count each step). */
  steps: number;
}

interface Prefilling {
  id: number;
  arrival: number;
  done: number;
}

interface Decoding {
  id: number;
  arrival: number;
  first: number;
  startStep: number;
  finishAt: number;
}

/**
 * A discrete-event simulation of one engine replica serving fixed-length requests under a scheduler
 * policy (scheduler.ts). Steps run one after another; a step's time comes from `stepSeconds` (the
 * roofline). Every decoding sequence advances one token per decode step, so sequences finish in the
 * order they started decoding and a run of decode-only steps is advanced in one go up to the next
 * finish (or arrival). Benchmark clients measure TTFT from sending the request to the first token and
 * TPOT as (latency - TTFT) / (output tokens - 1) (vllm/benchmarks/serve.py calculate_metrics, v0.10;
 * python/sglang/bench_serving.py calculate_metrics); the simulation reports the same means.
 */
export function simulateServing(input: SimulationInput): SimulationResult {
  const P = Math.max(1, Math.round(input.promptTokens));
  const G = Math.max(1, Math.round(input.genTokens));
  const N = Math.max(1, Math.round(input.requests));
  const maxRunning = Math.max(1, Math.floor(input.maxRunning));
  const { policy } = input;
  const budget = Math.max(1, Math.floor(policy.tokenBudget));
  const open = input.arrivals !== undefined;

  const waiting: Array<{ id: number; arrival: number }> = [];
  let waitingHead = 0;
  let prefilling: Prefilling[] = [];
  const decoding: Decoding[] = [];
  let decodingHead = 0;
  let nDec = 0;
  let sumStart = 0;
  let decodeCounter = 0;
  let now = 0;
  let issued = 0;
  let completed = 0;
  let steps = 0;
  let nextArrival = 0;
  // closed-loop users whose first request is not sent yet (staggered starts)
  const pending: number[] = [];
  let pendingHead = 0;

  const ttft = new Float64Array(N);
  const tpot = new Float64Array(N);
  const e2e = new Float64Array(N);
  const finish = new Float64Array(N);
  const arrivalOf = new Float64Array(N);

  const issue = (at: number) => {
    if (issued >= N) return;
    arrivalOf[issued] = at;
    waiting.push({ id: issued, arrival: at });
    issued++;
  };
  if (open) {
    nextArrival = (input.arrivals as readonly number[])[0] ?? 0;
  } else {
    const users = Math.min(Math.max(1, Math.round(input.clients)), N);
    const starts = Array.from({ length: users }, (_, i) => input.startTimes?.[i] ?? 0).sort((a, b) => a - b);
    for (const at of starts) pending.push(at);
  }
  const admitArrivals = () => {
    if (!open) {
      while (pendingHead < pending.length && (pending[pendingHead] as number) <= now + 1e-12)
        issue(pending[pendingHead++] as number);
      nextArrival =
        pendingHead < pending.length ? (pending[pendingHead] as number) : Number.POSITIVE_INFINITY;
      return;
    }
    const times = input.arrivals as readonly number[];
    while (issued < N && (times[issued] ?? Number.POSITIVE_INFINITY) <= now + 1e-12)
      issue(times[issued] as number);
    nextArrival = issued < N ? (times[issued] ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
  };
  const complete = (d: Decoding) => {
    ttft[d.id] = d.first - d.arrival;
    tpot[d.id] = G > 1 ? (now - d.first) / (G - 1) : 0;
    e2e[d.id] = now - d.arrival;
    finish[d.id] = now;
    completed++;
    if (!open && input.replace) issue(now);
  };
  const popFinished = () => {
    while (decodingHead < decoding.length && (decoding[decodingHead] as Decoding).finishAt <= decodeCounter) {
      const d = decoding[decodingHead++] as Decoding;
      nDec--;
      sumStart -= d.startStep;
      complete(d);
    }
  };
  const contextSum = () => nDec * (P + 1 + decodeCounter) - sumStart;

  admitArrivals();
  let guard = 0;
  while (completed < N && guard++ < 10_000_000) {
    const running = prefilling.length + nDec;
    const canAdmit = waitingHead < waiting.length && running < maxRunning;
    if (prefilling.length === 0 && !canAdmit) {
      if (nDec === 0) {
        // idle until the next arrival
        if (nextArrival === Number.POSITIVE_INFINITY) break;
        now = Math.max(now, nextArrival);
        admitArrivals();
        continue;
      }
      // decode-only steps up to the next finish (or arrival)
      const head = decoding[decodingHead] as Decoding;
      let k = Math.max(1, head.finishAt - decodeCounter);
      const ctx0 = contextSum();
      const step0 = input.stepSeconds({
        decodeSeqs: nDec,
        decodeContext: ctx0,
        prefillTokens: 0,
        chunks: [],
      });
      if (nextArrival < Number.POSITIVE_INFINITY) {
        k = Math.min(k, Math.max(1, Math.ceil((nextArrival - now) / Math.max(step0, 1e-9))));
      }
      const last = input.stepSeconds({
        decodeSeqs: nDec,
        decodeContext: ctx0 + (k - 1) * nDec,
        prefillTokens: 0,
        chunks: [],
      });
      const mid =
        k > 2
          ? input.stepSeconds({
              decodeSeqs: nDec,
              decodeContext: ctx0 + ((k - 1) / 2) * nDec,
              prefillTokens: 0,
              chunks: [],
            })
          : (step0 + last) / 2;
      // Simpson's rule over the run (step time grows with the context read)
      now += (k * (step0 + 4 * mid + last)) / 6;
      decodeCounter += k;
      steps += k;
      popFinished();
      admitArrivals();
      continue;
    }

    // one step with prompt work
    let left = budget;
    const decodeSeqs = policy.order === "decode-first" ? Math.min(nDec, left) : 0;
    left -= decodeSeqs;
    const chunks: Array<{ tokens: number; before: number; r: Prefilling }> = [];
    for (const r of prefilling) {
      if (left <= 0) break;
      const t = Math.min(P - r.done, left);
      chunks.push({ tokens: t, before: r.done, r });
      left -= t;
    }
    while (left > 0 && waitingHead < waiting.length && prefilling.length + nDec < maxRunning) {
      // without chunked prefill a prompt waits for a step with room for all of it, unless it could
      // never fit one (then the engine would have refused it; take it whole)
      if (!policy.chunked && left < P && chunks.length > 0) break;
      const w = waiting[waitingHead++] as { id: number; arrival: number };
      const r: Prefilling = { id: w.id, arrival: w.arrival, done: 0 };
      prefilling.push(r);
      const t = policy.chunked ? Math.min(P, left) : P;
      chunks.push({ tokens: t, before: 0, r });
      left -= t;
    }
    if (chunks.length === 0 && decodeSeqs === 0) {
      // nothing schedulable: should not happen; avoid spinning
      break;
    }
    const prefillTokens = chunks.reduce((sum, c) => sum + c.tokens, 0);
    now += input.stepSeconds({
      decodeSeqs,
      decodeContext: decodeSeqs > 0 ? contextSum() : 0,
      prefillTokens,
      chunks,
    });
    steps++;
    if (decodeSeqs > 0) decodeCounter++;
    let finishedPrefills = 0;
    for (const c of chunks) {
      c.r.done += c.tokens;
      if (c.r.done >= P) {
        finishedPrefills++;
        const d: Decoding = {
          id: c.r.id,
          arrival: c.r.arrival,
          first: now,
          startStep: decodeCounter,
          finishAt: decodeCounter + G - 1,
        };
        decoding.push(d);
        nDec++;
        sumStart += d.startStep;
      }
    }
    if (finishedPrefills > 0) prefilling = prefilling.filter((r) => r.done < P);
    popFinished();
    admitArrivals();
  }

  const from = Math.min(Math.max(0, Math.floor(input.measureFrom)), Math.max(0, completed - 1));
  let count = 0;
  let sumTtft = 0;
  let sumTpot = 0;
  let sumE2e = 0;
  let firstArrival = Number.POSITIVE_INFINITY;
  let lastFinish = 0;
  for (let i = from; i < N; i++) {
    if (e2e[i] === 0 && finish[i] === 0) continue;
    count++;
    sumTtft += ttft[i] as number;
    sumTpot += tpot[i] as number;
    sumE2e += e2e[i] as number;
    firstArrival = Math.min(firstArrival, arrivalOf[i] as number);
    lastFinish = Math.max(lastFinish, finish[i] as number);
  }
  const n = Math.max(1, count);
  const meanE2e = sumE2e / n;
  let throughput: number;
  if (!open && input.replace) {
    // closed loop: every user always has one request in the system (Little's law)
    throughput = (Math.min(input.clients, N) * G) / Math.max(meanE2e, 1e-9);
  } else {
    throughput = (count * G) / Math.max(lastFinish - firstArrival, 1e-9);
  }
  return { ttft: sumTtft / n, tpot: sumTpot / n, e2e: meanE2e, throughput, steps };
}
