/**
 * Readiness of an OpenAI-compatible engine: GET /health answers 200 and GET /v1/models lists the
 * served model name (vLLM, SGLang and llama-server all expose both; llama-server answers 503 on
 * /health while it loads).
 */

export interface ReadinessProbe {
  ready: boolean;
  /** /health's status code, or "refused" when nothing listens, "timeout" when it did not answer. */
  health: number | "refused" | "timeout";
  /** The model ids /v1/models listed (null when it was not asked or did not answer). */
  models: string[] | null;
}

async function get(
  url: string,
  timeoutMs: number,
  apiKey: string | null,
): Promise<Response | "refused" | "timeout"> {
  try {
    return await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      ...(apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {}),
    });
  } catch (error) {
    return (error as Error).name === "TimeoutError" ? "timeout" : "refused";
  }
}

export async function probeReadiness(
  endpoint: string,
  servedModelName: string,
  options: { timeoutMs?: number; apiKey?: string | null } = {},
): Promise<ReadinessProbe> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const apiKey = options.apiKey ?? null;
  const health = await get(`${endpoint}/health`, timeoutMs, apiKey);
  if (typeof health === "string") return { ready: false, health, models: null };
  await health.arrayBuffer().catch(() => {});
  if (health.status !== 200) return { ready: false, health: health.status, models: null };
  const list = await get(`${endpoint}/v1/models`, timeoutMs, apiKey);
  if (typeof list === "string" || list.status !== 200) {
    if (typeof list !== "string") await list.arrayBuffer().catch(() => {});
    return { ready: false, health: 200, models: null };
  }
  const body = (await list.json().catch(() => null)) as { data?: Array<{ id?: unknown }> } | null;
  const models = (body?.data ?? []).map((entry) => String(entry.id ?? ""));
  return { ready: models.includes(servedModelName), health: 200, models };
}
