/**
 * What `servepilot bench <model|endpoint>` measures: an http(s) URL is an endpoint (its model from
 * --model or the first of GET /v1/models); anything else names a running instance by served model
 * name, model id or instance name (the launcher's state in the data directory).
 */
import { ServepilotError } from "../../core/errors.js";
import type { InstanceRecord } from "../supervisor/instance.js";
import { listInstances } from "../supervisor/state-store.js";
import { describeFetchError, v1Base } from "./load.js";

export interface BenchTarget {
  /** …/v1 of the server. */
  baseUrl: string;
  /** The `model` sent with each request. */
  model: string;
  /** The instance measured, when known (for the planner's estimate). */
  instance: InstanceRecord | null;
}

export function isEndpoint(target: string): boolean {
  return /^https?:\/\//i.test(target.trim());
}

/** Whether the record serves `name` (served name, model id or instance name, as the gateway routes). */
export function servesModel(record: InstanceRecord, name: string): boolean {
  return record.servedModelName === name || record.model === name || record.name === name;
}

/** The ids GET /v1/models lists. */
export async function listServedModels(
  baseUrl: string,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<string[]> {
  const url = `${v1Base(baseUrl)}/models`;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new ServepilotError("NETWORK_ERROR", `cannot reach ${url}: ${describeFetchError(error)}`, {
      hint: "check the endpoint URL and that the server runs",
    });
  }
  const text = await response.text().catch(() => "");
  if (!response.ok) {
    throw new ServepilotError("NETWORK_ERROR", `GET ${url} answered HTTP ${response.status}`, {
      hint:
        response.status === 401 || response.status === 403
          ? "give the API key with --api-key (or SERVEPILOT_API_KEY / OPENAI_API_KEY)"
          : "name the model with --model",
    });
  }
  try {
    const body = JSON.parse(text) as { data?: Array<{ id?: unknown }> };
    return (body.data ?? []).flatMap((m) => (typeof m.id === "string" ? [m.id] : []));
  } catch {
    throw new ServepilotError("NETWORK_ERROR", `GET ${url} did not answer a model list`, {
      hint: "name the model with --model",
    });
  }
}

export async function resolveBenchTarget(
  target: string,
  options: { dataDir: string; model?: string | undefined; headers?: Record<string, string> },
): Promise<BenchTarget> {
  const records = await listInstances(options.dataDir);
  const ready = records.filter((r) => r.status === "ready");
  if (isEndpoint(target)) {
    const baseUrl = v1Base(target);
    let model = options.model;
    if (model === undefined) {
      const ids = await listServedModels(baseUrl, options.headers);
      model = ids[0];
      if (model === undefined) {
        throw new ServepilotError("INVALID_ARGUMENT", `${baseUrl}/models lists no model`, {
          hint: "name the model with --model",
        });
      }
    }
    const chosen = model;
    const instance =
      ready.find((r) => v1Base(r.endpoint) === baseUrl && servesModel(r, chosen)) ??
      ready.find((r) => v1Base(r.endpoint) === baseUrl) ??
      null;
    return { baseUrl, model: chosen, instance };
  }
  const instance = ready.find((r) => servesModel(r, target));
  if (instance === undefined) {
    const serving = ready.map((r) => r.servedModelName);
    throw new ServepilotError("NOT_FOUND", `no running instance serves "${target}"`, {
      hint:
        serving.length > 0
          ? `running: ${serving.join(", ")}; or give an endpoint URL (http://host:port)`
          : "start one with servepilot launch, or give an endpoint URL (http://host:port)",
    });
  }
  return { baseUrl: v1Base(instance.endpoint), model: options.model ?? instance.servedModelName, instance };
}
