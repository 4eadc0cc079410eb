/**
 * What the usage analytics read from SQLite: the gateway's request rows of a window (only the columns
 * the figures need, with the key's name and prefix), the GPU energy minutes, and pages of recent
 * requests. The figures themselves are computed by core/usage/analytics.ts.
 *
 * `requests.at` is compared as text: the gateway writes `Date.toISOString()` (UTC, "…Z"), which sorts
 * by time, and the bounds here are written the same way (the requests_at / requests_model_at /
 * requests_key_at indexes serve these ranges).
 */
import type { ExpressionBuilder, Kysely, SelectQueryBuilder } from "kysely";
import {
  ADMIN_KEY_ID,
  ADMIN_KEY_NAME,
  type UsageEnergyMinute,
  type UsageRequest,
  usageRowsFrom,
  utcMinute,
} from "../../core/usage/analytics.js";
import type { StudioDatabase } from "../db/schema.js";

export interface UsageFilters {
  model?: string | undefined;
  /** A key id, or "admin" for the requests without a gateway key (admin key or loopback). */
  keyId?: string | undefined;
}

type RequestsQuery<O> = SelectQueryBuilder<
  StudioDatabase & { k: StudioDatabase["api_keys"] },
  "requests" | "k",
  O
>;

function filtered<O>(query: RequestsQuery<O>, filters: UsageFilters): RequestsQuery<O> {
  let q = query;
  if (filters.model !== undefined) q = q.where("requests.model", "=", filters.model);
  if (filters.keyId === ADMIN_KEY_ID) q = q.where("requests.api_key_id", "is", null);
  else if (filters.keyId !== undefined) q = q.where("requests.api_key_id", "=", filters.keyId);
  return q;
}

function withKeys(db: Kysely<StudioDatabase>) {
  return db.selectFrom("requests").leftJoin("api_keys as k", "k.id", "requests.api_key_id");
}

/**
 * The request rows `computeUsage` needs for the window [from, to]: from the window start, or 14
 * days before its end when that is earlier (week over week), to its end.
 */
export async function readUsageRequests(
  db: Kysely<StudioDatabase>,
  window: { from: string; to: string },
  filters: UsageFilters = {},
): Promise<UsageRequest[]> {
  const rows = await filtered(
    withKeys(db).select([
      "requests.at",
      "requests.api_key_id",
      "k.name as key_name",
      "k.prefix as key_prefix",
      "requests.model",
      "requests.status",
      "requests.prompt_tokens",
      "requests.completion_tokens",
      "requests.cached_tokens",
      "requests.ttft_ms",
      "requests.duration_ms",
    ]),
    filters,
  )
    .where("requests.at", ">=", usageRowsFrom(window.from, window.to))
    .where("requests.at", "<=", window.to)
    .execute();
  return rows.map((r) => ({
    at: r.at,
    apiKeyId: r.api_key_id,
    keyName: r.key_name,
    keyPrefix: r.key_prefix,
    model: r.model,
    status: r.status,
    promptTokens: r.prompt_tokens,
    completionTokens: r.completion_tokens,
    cachedTokens: r.cached_tokens,
    ttftMs: r.ttft_ms,
    durationMs: r.duration_ms,
  }));
}

/** The GPU energy minutes of the window [from, to] (the minutes `from` and `to` fall in included). */
export async function readEnergyMinutes(
  db: Kysely<StudioDatabase>,
  window: { from: string; to: string },
): Promise<UsageEnergyMinute[]> {
  return db
    .selectFrom("gpu_energy")
    .select(["minute", "joules"])
    .where("minute", ">=", utcMinute(Date.parse(window.from)))
    .where("minute", "<=", utcMinute(Date.parse(window.to)))
    .orderBy("minute")
    .execute();
}

export interface RequestPageQuery extends UsageFilters {
  limit: number;
  /** Only rows with a smaller id (the `nextBefore` of the previous page). */
  before?: number | undefined;
  /** "ok": HTTP 2xx; "error": anything else. */
  status?: "ok" | "error" | undefined;
  chatSessionId?: string | undefined;
}

export interface RequestView {
  id: number;
  requestId: string;
  at: string;
  apiKeyId: string | null;
  keyName: string | null;
  keyPrefix: string | null;
  model: string;
  instance: string | null;
  endpoint: string;
  stream: boolean;
  status: number;
  ok: boolean;
  error: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
  ttftMs: number | null;
  durationMs: number;
  chatSessionId: string | null;
}

const isOk = (eb: ExpressionBuilder<StudioDatabase & { k: StudioDatabase["api_keys"] }, "requests" | "k">) =>
  eb.and([eb("requests.status", ">=", 200), eb("requests.status", "<", 300)]);

/** Recent requests, newest (highest id) first, one page at a time. */
export async function readRequestPage(
  db: Kysely<StudioDatabase>,
  query: RequestPageQuery,
): Promise<{ requests: RequestView[]; nextBefore: number | null }> {
  let q = filtered(
    withKeys(db).select([
      "requests.id",
      "requests.request_id",
      "requests.at",
      "requests.api_key_id",
      "k.name as key_name",
      "k.prefix as key_prefix",
      "requests.model",
      "requests.instance",
      "requests.endpoint",
      "requests.stream",
      "requests.status",
      "requests.error",
      "requests.prompt_tokens",
      "requests.completion_tokens",
      "requests.cached_tokens",
      "requests.ttft_ms",
      "requests.duration_ms",
      "requests.chat_session_id",
    ]),
    query,
  );
  if (query.before !== undefined) q = q.where("requests.id", "<", query.before);
  if (query.status === "ok") q = q.where(isOk);
  if (query.status === "error") q = q.where((eb) => eb.not(isOk(eb)));
  if (query.chatSessionId !== undefined) q = q.where("requests.chat_session_id", "=", query.chatSessionId);
  // one row more than asked tells whether another page follows
  const rows = await q
    .orderBy("requests.id", "desc")
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  return {
    requests: page.map((r) => ({
      id: r.id,
      requestId: r.request_id,
      at: r.at,
      apiKeyId: r.api_key_id,
      keyName: r.api_key_id === null ? ADMIN_KEY_NAME : r.key_name,
      keyPrefix: r.key_prefix,
      model: r.model,
      instance: r.instance,
      endpoint: r.endpoint,
      stream: r.stream !== 0,
      status: r.status,
      ok: r.status >= 200 && r.status < 300,
      error: r.error,
      promptTokens: r.prompt_tokens,
      completionTokens: r.completion_tokens,
      cachedTokens: r.cached_tokens,
      ttftMs: r.ttft_ms,
      durationMs: r.duration_ms,
      chatSessionId: r.chat_session_id,
    })),
    nextBefore: rows.length > query.limit ? ((page.at(-1)?.id as number | undefined) ?? null) : null,
  };
}
