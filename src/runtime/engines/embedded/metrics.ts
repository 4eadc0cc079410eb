/**
 * GET /metrics of the embedded server: the metric names, HELP texts and TYPEs llama-server prints
 * (tools/server/server.cpp, handler `metrics`, ggml-org/llama.cpp at
 * https://github.com/ggml-org/llama.cpp/blob/master/tools/server/server.cpp — the `all_metrics_def`
 * table; "n_busy_slots_per_decode" is listed there as a counter although it is an average), with
 * values this server counts itself:
 *
 * - prompt tokens: tokens actually decoded for prompts (a prefix reused from the sequence's cache
 *   is not counted, as in llama-server), and the time until each request's first token;
 * - predicted tokens: every sampled token (end-of-generation and stop-string tokens included, like
 *   llama-server's n_decoded), and the time from the first token to the last;
 * - n_decode_total: batches node-llama-cpp dispatched to llama_decode(); busy slots: sequences
 *   with tokens in each batch;
 * - the two throughput gauges cover the time since the previous scrape (llama-server resets its
 *   "bucket" on every /metrics read).
 */

export interface MetricsQueueState {
  /** Requests holding a sequence. */
  processing: number;
  /** Requests waiting for a free sequence. */
  deferred: number;
}

interface Throughput {
  tokens: number;
  seconds: number;
}

export class EmbeddedServerMetrics {
  private promptTokensTotal = 0;
  private promptSecondsTotal = 0;
  private predictedTokensTotal = 0;
  private predictedSecondsTotal = 0;
  private decodeTotal = 0;
  private busySlotsTotal = 0;
  private tokensMax = 0;
  private promptBucket: Throughput = { tokens: 0, seconds: 0 };
  private predictBucket: Throughput = { tokens: 0, seconds: 0 };

  /** A request's prompt was decoded: `tokens` new prompt tokens in `seconds`. */
  recordPrompt(tokens: number, seconds: number): void {
    this.promptTokensTotal += tokens;
    this.promptSecondsTotal += seconds;
    this.promptBucket = {
      tokens: this.promptBucket.tokens + tokens,
      seconds: this.promptBucket.seconds + seconds,
    };
  }

  /** A request finished: `tokens` sampled in `seconds`; `sequenceLength` = prompt + generated tokens. */
  recordGeneration(tokens: number, seconds: number, sequenceLength: number): void {
    this.predictedTokensTotal += tokens;
    this.predictedSecondsTotal += seconds;
    this.predictBucket = {
      tokens: this.predictBucket.tokens + tokens,
      seconds: this.predictBucket.seconds + seconds,
    };
    this.tokensMax = Math.max(this.tokensMax, sequenceLength);
  }

  /** One llama_decode() batch holding tokens of `busySlots` sequences. */
  recordDecode(busySlots: number): void {
    this.decodeTotal += 1;
    this.busySlotsTotal += busySlots;
  }

  /** The Prometheus text; resets the throughput gauges' window, as llama-server does on each read. */
  render(queue: MetricsQueueState): string {
    const counters: Array<[string, string, number]> = [
      ["prompt_tokens_total", "Number of prompt tokens processed.", this.promptTokensTotal],
      ["prompt_seconds_total", "Prompt process time", this.promptSecondsTotal],
      ["tokens_predicted_total", "Number of generation tokens processed.", this.predictedTokensTotal],
      ["tokens_predicted_seconds_total", "Predict process time", this.predictedSecondsTotal],
      ["n_decode_total", "Total number of llama_decode() calls", this.decodeTotal],
      ["n_tokens_max", "Largest observed n_tokens.", this.tokensMax],
      [
        "n_busy_slots_per_decode",
        "Average number of busy slots per llama_decode() call",
        this.busySlotsTotal / Math.max(this.decodeTotal, 1),
      ],
    ];
    const gauges: Array<[string, string, number]> = [
      ["prompt_tokens_seconds", "Average prompt throughput in tokens/s.", perSecond(this.promptBucket)],
      [
        "predicted_tokens_seconds",
        "Average generation throughput in tokens/s.",
        perSecond(this.predictBucket),
      ],
      ["requests_processing", "Number of requests processing.", queue.processing],
      ["requests_deferred", "Number of requests deferred.", queue.deferred],
    ];
    this.promptBucket = { tokens: 0, seconds: 0 };
    this.predictBucket = { tokens: 0, seconds: 0 };
    const lines: string[] = [];
    for (const [type, items] of [
      ["counter", counters],
      ["gauge", gauges],
    ] as const) {
      for (const [name, help, value] of items) {
        lines.push(
          `# HELP llamacpp:${name} ${help}`,
          `# TYPE llamacpp:${name} ${type}`,
          `llamacpp:${name} ${value}`,
        );
      }
    }
    return `${lines.join("\n")}\n`;
  }
}

function perSecond(bucket: Throughput): number {
  return bucket.tokens > 0 && bucket.seconds > 0 ? bucket.tokens / bucket.seconds : 0;
}
