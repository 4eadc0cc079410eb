/**
 * The gateway's Prometheus instruments, fed from the request log as rows are recorded. Labelled by
 * instance (a bounded set: "none" for requests that reached no engine), never by the model a client
 * typed, which could be anything.
 */
import { Counter, Histogram, type Registry } from "prom-client";
import type { RequestRow } from "./recorder.js";

export function createGatewayMetrics(registry: Registry) {
  const requests = new Counter({
    name: "servepilot_gateway_requests_total",
    help: "Gateway (/v1) requests, by instance, endpoint and status class (2xx, 4xx, 5xx; 499: client closed).",
    labelNames: ["instance", "endpoint", "status"] as const,
    registers: [registry],
  });
  const tokens = new Counter({
    name: "servepilot_gateway_tokens_total",
    help: "Tokens of gateway requests as the engines reported them, by instance and kind (prompt, completion, cached).",
    labelNames: ["instance", "kind"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "servepilot_gateway_request_duration_seconds",
    help: "Gateway request duration, from arrival to the last byte sent, by instance.",
    labelNames: ["instance"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  const ttft = new Histogram({
    name: "servepilot_gateway_time_to_first_token_seconds",
    help: "Time to the first generated text of streamed gateway requests, by instance.",
    labelNames: ["instance"] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return (row: RequestRow) => {
    const instance = row.instance ?? "none";
    const status = row.status === 499 ? "499" : `${Math.floor(row.status / 100)}xx`;
    requests.inc({ instance, endpoint: row.endpoint, status });
    if (row.prompt_tokens) tokens.inc({ instance, kind: "prompt" }, row.prompt_tokens);
    if (row.completion_tokens) tokens.inc({ instance, kind: "completion" }, row.completion_tokens);
    if (row.cached_tokens) tokens.inc({ instance, kind: "cached" }, row.cached_tokens);
    duration.observe({ instance }, row.duration_ms / 1000);
    if (row.ttft_ms !== null && row.ttft_ms !== undefined) ttft.observe({ instance }, row.ttft_ms / 1000);
  };
}
