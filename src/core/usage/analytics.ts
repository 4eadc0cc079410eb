/**
 * Usage analytics over the gateway's request log (pure: the studio reads the rows, this computes).
 *
 * Units, everywhere in the result:
 * - times are ISO-8601 UTC strings; days are UTC dates ("2026-11-22"), hours are UTC hours of day 0-23;
 * - durations (`durationMs`, `ttftMs` and their percentiles) are milliseconds;
 * - tokens are token counts (a missing count in a row counts as 0 in sums);
 * - rates (`successRate`) are fractions 0-1, changes (`...ChangePercent`) are percent;
 * - energy is joules and watt-hours (1 Wh = 3600 J); `whPerMillionTokens` is Wh / total tokens * 1e6.
 *
 * Every percentile is numpy's default linear interpolation (core/stats/percentile.ts). A request
 * "succeeded" when its HTTP status is 2xx; every other status is a failure. Latency percentiles are
 * over succeeded requests only (a refused request answered in 1 ms is not a fast completion); TTFT
 * percentiles are over the requests that recorded a TTFT (streamed, succeeded ones).
 */
import { percentilesOf, summaryPercentiles } from "../stats/percentile.js";

/** One gateway request as analytics needs it (a row of the studio's `requests` table). */
export interface UsageRequest {
  /** ISO time the request arrived. */
  at: string;
  /** The gateway key's id; null for the admin key or an unauthenticated loopback request. */
  apiKeyId: string | null;
  /** The key's name and prefix when known (null for the admin key or a key no longer listed). */
  keyName?: string | null;
  keyPrefix?: string | null;
  model: string;
  /** HTTP status returned to the client. */
  status: number;
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
  ttftMs: number | null;
  durationMs: number;
}

/** GPU energy of one UTC minute, all GPUs together. */
export interface UsageEnergyMinute {
  /** ISO minute, e.g. "2026-11-22T15:04Z". */
  minute: string;
  joules: number;
}

export interface UsageInput {
  /**
   * The requests of the window and, for week over week, those of the 14 days before `to`; rows
   * outside both are ignored.
   */
  requests: readonly UsageRequest[];
  /** The GPU energy minutes of the window (minutes outside it are ignored). */
  energy: readonly UsageEnergyMinute[];
  /** Window start (inclusive) and end (inclusive), ISO times. */
  from: string;
  to: string;
  /**
   * True when the requests are filtered by model or key: GPU energy is all GPUs, so energy per
   * token would charge the whole GPU energy to a part of the tokens and is left null.
   */
  filtered?: boolean;
}

/** The key id that stands for "no gateway key" (admin key or loopback) in per-key figures and filters. */
export const ADMIN_KEY_ID = "admin";
export const ADMIN_KEY_NAME = "admin / loopback";

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

export interface UsageTotals {
  requests: number;
  succeeded: number;
  failed: number;
  /** succeeded / requests (0-1); null without requests. */
  successRate: number | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** promptTokens + completionTokens (cached tokens are part of the prompt tokens). */
  totalTokens: number;
}

export interface Percentiles3 {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface UsageBreakdownRow {
  requests: number;
  succeeded: number;
  failed: number;
  successRate: number | null;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Duration of succeeded requests (ms). */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  /** Time to first token (ms). */
  ttftP50Ms: number | null;
}

export interface UsageDay {
  /** UTC date, e.g. "2026-11-22". */
  date: string;
  requests: number;
  failures: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface UsageHour {
  /** UTC hour of day, 0-23. */
  hour: number;
  requests: number;
  totalTokens: number;
}

export interface UsageWeek {
  /** The 7 days ending at the window's end (`to`), and the 7 days before them. */
  current: { from: string; to: string; requests: number; totalTokens: number };
  previous: { from: string; to: string; requests: number; totalTokens: number };
  /** (current - previous) / previous * 100; null when the earlier week had none. */
  requestsChangePercent: number | null;
  tokensChangePercent: number | null;
}

export interface UsageEnergy {
  /** Minutes of the window with a GPU energy record. */
  minutes: number;
  joules: number;
  wh: number;
  /** Wh per million total tokens of the window; null without tokens, or when the figures are filtered. */
  whPerMillionTokens: number | null;
}

export interface UsageAnalytics {
  window: { from: string; to: string; days: number };
  totals: UsageTotals;
  /** Duration of succeeded requests (ms). */
  latencyMs: Percentiles3;
  /** Time to first token, over requests that recorded one (ms). */
  ttftMs: Percentiles3;
  /** Means over the requests that recorded token counts; null when none did. */
  tokensPerRequest: {
    requests: number;
    prompt: number | null;
    completion: number | null;
    total: number | null;
  };
  /** Per model, most requests first. */
  byModel: Array<UsageBreakdownRow & { model: string }>;
  /** Per key, most requests first; the admin key / loopback is `keyId: "admin"`. */
  byKey: Array<UsageBreakdownRow & { keyId: string; name: string | null; prefix: string | null }>;
  /** Every UTC day of the window, oldest first, days without requests included. */
  days: UsageDay[];
  /** The window's requests by UTC hour of day, 0 to 23. */
  hourly: UsageHour[];
  weekOverWeek: UsageWeek;
  energy: UsageEnergy;
}

function timeOf(iso: string, what: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new RangeError(`${what} is not an ISO time: ${JSON.stringify(iso)}`);
  return ms;
}

/** "2026-11-22" of an epoch-ms time (UTC). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** "2026-11-22T15:04Z": the UTC minute of an epoch-ms time, as the gpu_energy table keys it. */
export function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}

const isSuccess = (status: number) => status >= 200 && status < 300;
const hasTokens = (r: UsageRequest) => r.promptTokens !== null || r.completionTokens !== null;
const totalOf = (r: UsageRequest) => (r.promptTokens ?? 0) + (r.completionTokens ?? 0);
const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
const changePercent = (current: number, previous: number) =>
  previous === 0 ? null : ((current - previous) / previous) * 100;

function totalsOf(rows: readonly UsageRequest[]): UsageTotals {
  let succeeded = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  let cachedTokens = 0;
  for (const r of rows) {
    if (isSuccess(r.status)) succeeded += 1;
    promptTokens += r.promptTokens ?? 0;
    completionTokens += r.completionTokens ?? 0;
    cachedTokens += r.cachedTokens ?? 0;
  }
  return {
    requests: rows.length,
    succeeded,
    failed: rows.length - succeeded,
    successRate: ratio(succeeded, rows.length),
    promptTokens,
    completionTokens,
    cachedTokens,
    totalTokens: promptTokens + completionTokens,
  };
}

const latencies = (rows: readonly UsageRequest[]) =>
  rows.filter((r) => isSuccess(r.status)).map((r) => r.durationMs);
const ttfts = (rows: readonly UsageRequest[]) => rows.flatMap((r) => (r.ttftMs === null ? [] : [r.ttftMs]));

function breakdownOf(rows: readonly UsageRequest[]): UsageBreakdownRow {
  const t = totalsOf(rows);
  const [latencyP50Ms = null, latencyP95Ms = null] = percentilesOf(latencies(rows), [50, 95]);
  const [ttftP50Ms = null] = percentilesOf(ttfts(rows), [50]);
  return {
    requests: t.requests,
    succeeded: t.succeeded,
    failed: t.failed,
    successRate: t.successRate,
    promptTokens: t.promptTokens,
    completionTokens: t.completionTokens,
    totalTokens: t.totalTokens,
    latencyP50Ms,
    latencyP95Ms,
    ttftP50Ms,
  };
}

function groupBy<K>(rows: readonly UsageRequest[], keyOf: (r: UsageRequest) => K): Map<K, UsageRequest[]> {
  const groups = new Map<K, UsageRequest[]>();
  for (const r of rows) {
    const key = keyOf(r);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [r]);
    else group.push(r);
  }
  return groups;
}

/** Most requests first, then by label, so that the order is stable. */
function mostRequestsFirst<T extends { requests: number }>(label: (row: T) => string) {
  return (a: T, b: T) => {
    const [la, lb] = [label(a), label(b)];
    return b.requests - a.requests || (la < lb ? -1 : la > lb ? 1 : 0);
  };
}

function daysOf(rows: ReadonlyArray<{ ms: number; row: UsageRequest }>, fromMs: number, toMs: number) {
  const days = new Map<string, UsageDay>();
  for (let day = Date.parse(`${utcDay(fromMs)}T00:00:00Z`); day <= toMs; day += DAY_MS) {
    const date = utcDay(day);
    days.set(date, { date, requests: 0, failures: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 });
  }
  for (const { ms, row } of rows) {
    const day = days.get(utcDay(ms));
    if (day === undefined) continue;
    day.requests += 1;
    if (!isSuccess(row.status)) day.failures += 1;
    day.promptTokens += row.promptTokens ?? 0;
    day.completionTokens += row.completionTokens ?? 0;
    day.totalTokens += totalOf(row);
  }
  return [...days.values()];
}

function hourlyOf(rows: ReadonlyArray<{ ms: number; row: UsageRequest }>): UsageHour[] {
  const hours = Array.from({ length: 24 }, (_, hour) => ({ hour, requests: 0, totalTokens: 0 }));
  for (const { ms, row } of rows) {
    const bucket = hours[new Date(ms).getUTCHours()] as UsageHour;
    bucket.requests += 1;
    bucket.totalTokens += totalOf(row);
  }
  return hours;
}

function weekOverWeekOf(rows: ReadonlyArray<{ ms: number; row: UsageRequest }>, toMs: number): UsageWeek {
  // current: (to - 7 d, to]; previous: (to - 14 d, to - 7 d]
  const week = (endMs: number) => {
    const inWeek = rows.filter(({ ms }) => ms > endMs - WEEK_MS && ms <= endMs);
    return {
      from: new Date(endMs - WEEK_MS).toISOString(),
      to: new Date(endMs).toISOString(),
      requests: inWeek.length,
      totalTokens: inWeek.reduce((sum, { row }) => sum + totalOf(row), 0),
    };
  };
  const current = week(toMs);
  const previous = week(toMs - WEEK_MS);
  return {
    current,
    previous,
    requestsChangePercent: changePercent(current.requests, previous.requests),
    tokensChangePercent: changePercent(current.totalTokens, previous.totalTokens),
  };
}

function energyOf(
  minutes: readonly UsageEnergyMinute[],
  fromMs: number,
  toMs: number,
  totalTokens: number,
  filtered: boolean,
): UsageEnergy {
  // minutes compare as text: "YYYY-MM-DDTHH:MMZ" sorts by time
  const first = utcMinute(fromMs);
  const last = utcMinute(toMs);
  const inWindow = minutes.filter((m) => m.minute >= first && m.minute <= last);
  const joules = inWindow.reduce((sum, m) => sum + m.joules, 0);
  const wh = joules / 3600;
  return {
    minutes: inWindow.length,
    joules,
    wh,
    whPerMillionTokens: filtered || totalTokens === 0 ? null : (wh / totalTokens) * 1e6,
  };
}

/** All usage figures of a window (see the module comment for units and definitions). */
export function computeUsage(input: UsageInput): UsageAnalytics {
  const fromMs = timeOf(input.from, "from");
  const toMs = timeOf(input.to, "to");
  if (fromMs > toMs) throw new RangeError(`from (${input.from}) is after to (${input.to})`);

  const timed = input.requests.map((row) => ({ ms: timeOf(row.at, "request time"), row }));
  const windowed = timed.filter(({ ms }) => ms >= fromMs && ms <= toMs);
  const rows = windowed.map(({ row }) => row);

  const totals = totalsOf(rows);
  const withTokens = rows.filter(hasTokens);
  const mean = (sum: number) => ratio(sum, withTokens.length);

  const byModel = [...groupBy(rows, (r) => r.model)]
    .map(([model, group]) => ({ model, ...breakdownOf(group) }))
    .sort(mostRequestsFirst((row) => row.model));

  const byKey = [...groupBy(rows, (r) => r.apiKeyId ?? ADMIN_KEY_ID)]
    .map(([keyId, group]) => {
      const first = group[0] as UsageRequest;
      const admin = first.apiKeyId === null;
      return {
        keyId,
        name: admin ? ADMIN_KEY_NAME : (first.keyName ?? null),
        prefix: admin ? null : (first.keyPrefix ?? null),
        ...breakdownOf(group),
      };
    })
    .sort(mostRequestsFirst((row) => row.keyId));

  const days = daysOf(windowed, fromMs, toMs);
  return {
    window: { from: input.from, to: input.to, days: days.length },
    totals,
    latencyMs: summaryPercentiles(latencies(rows)),
    ttftMs: summaryPercentiles(ttfts(rows)),
    tokensPerRequest: {
      requests: withTokens.length,
      prompt: mean(withTokens.reduce((s, r) => s + (r.promptTokens ?? 0), 0)),
      completion: mean(withTokens.reduce((s, r) => s + (r.completionTokens ?? 0), 0)),
      total: mean(withTokens.reduce((s, r) => s + totalOf(r), 0)),
    },
    byModel,
    byKey,
    days,
    hourly: hourlyOf(windowed),
    weekOverWeek: weekOverWeekOf(timed, toMs),
    energy: energyOf(input.energy, fromMs, toMs, totals.totalTokens, input.filtered ?? false),
  };
}

/**
 * The window of the last `days` UTC days: from the start (00:00Z) of the day `days - 1` days before
 * `nowMs` to `nowMs` itself, so that `days: 1` is today so far.
 */
export function lastDaysWindow(nowMs: number, days: number): { from: string; to: string } {
  if (!Number.isInteger(days) || days < 1)
    throw new RangeError(`days must be a whole number >= 1, got ${days}`);
  const today = Date.parse(`${utcDay(nowMs)}T00:00:00Z`);
  return { from: new Date(today - (days - 1) * DAY_MS).toISOString(), to: new Date(nowMs).toISOString() };
}

/** How far back the request rows must reach for `computeUsage` (window start or 14 days before its end). */
export function usageRowsFrom(from: string, to: string): string {
  return new Date(Math.min(timeOf(from, "from"), timeOf(to, "to") - 2 * WEEK_MS)).toISOString();
}
