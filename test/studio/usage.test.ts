/**
 * Usage analytics over real HTTP: a real studio, request / key / energy rows seeded through
 * `ctx.db`, GET /api/usage and /api/usage/requests checked against figures worked out by hand
 * (numpy linear percentiles), bad queries refused by field, and the GPU sampler's energy per minute
 * reaching the gpu_energy table.
 *
 * The figures use a fixed window in the past (from/to) so that the live sampler, which writes the
 * current minute's energy, cannot change them.
 */
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { DATABASE_FILE } from "../../src/studio/db/database.js";
import type { RequestsTable } from "../../src/studio/db/schema.js";
import { addEnergy, flushEnergy } from "../../src/studio/modules/metrics.js";
import { startTestStudio, type TestStudio } from "./studio-harness.js";

const open: TestStudio[] = [];
async function studio(options: Parameters<typeof startTestStudio>[0] = {}) {
  const s = await startTestStudio(options);
  open.push(s);
  return s;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const KEY_A = "11111111-1111-4111-8111-111111111111";
const KEY_B = "22222222-2222-4222-8222-222222222222";
const FROM = "2025-03-08T00:00:00.000Z";
const TO = "2025-03-10T12:00:00.000Z";
const WINDOW = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`;

type Seed = Omit<
  RequestsTable,
  "id" | "request_id" | "instance" | "endpoint" | "error" | "chat_session_id"
> & {
  error?: string;
  chat_session_id?: string;
};

function req(
  at: string,
  key: string | null,
  model: string,
  status: number,
  tokens: [number | null, number | null, number | null],
  ttft: number | null,
  duration: number,
  extra: Partial<Seed> = {},
): Seed {
  return {
    at,
    api_key_id: key,
    model,
    stream: ttft === null ? 0 : 1,
    status,
    prompt_tokens: tokens[0],
    completion_tokens: tokens[1],
    cached_tokens: tokens[2],
    ttft_ms: ttft,
    duration_ms: duration,
    ...extra,
  };
}

// ids 1-8 in this order
const ROWS: Seed[] = [
  req("2025-03-08T09:15:00.000Z", KEY_A, "m1", 200, [100, 50, 20], 40, 1000), // 1
  req("2025-03-08T09:45:00.000Z", null, "m1", 200, [200, 100, 0], null, 2000), // 2
  req("2025-03-09T14:00:00.000Z", KEY_A, "m2", 500, [null, null, null], null, 50, { error: "engine failed" }), // 3
  req("2025-03-10T09:05:00.000Z", KEY_B, "m1", 200, [300, 150, 100], 60, 3000, { chat_session_id: "chat-1" }), // 4
  req("2025-03-10T11:00:00.000Z", KEY_A, "m2", 429, [null, null, null], null, 5), // 5
  req("2025-03-10T11:10:00.000Z", KEY_B, "m2", 200, [400, 200, null], 100, 4000), // 6
  req("2025-03-02T10:00:00.000Z", null, "m1", 200, [1000, 500, null], null, 100), // 7: the week before
  req("2025-03-10T12:00:01.000Z", null, "m1", 200, [1, 1, null], null, 100), // 8: after the window
];

async function seed(s: TestStudio): Promise<void> {
  const db = s.ctx.db;
  const key = (id: string, name: string, prefix: string) => ({
    id,
    name,
    prefix,
    hash: `hash-${id}`,
    scope: "gateway" as const,
    rate_limit_per_minute: null,
    token_quota: null,
    created_at: "2025-03-01T00:00:00.000Z",
    revoked_at: null,
    last_used_at: null,
  });
  await db
    .insertInto("api_keys")
    .values([key(KEY_A, "alpha", "sp-aaaa"), key(KEY_B, "beta", "sp-bbbb")])
    .execute();
  for (const [i, row] of ROWS.entries()) {
    await db
      .insertInto("requests")
      .values({
        request_id: `req-${i + 1}`,
        instance: "inst",
        endpoint: "chat.completions",
        error: null,
        chat_session_id: null,
        ...row,
      })
      .execute();
  }
  await db
    .insertInto("gpu_energy")
    .values([
      { minute: "2025-03-07T23:59Z", joules: 100 }, // before
      { minute: "2025-03-08T00:00Z", joules: 3600 },
      { minute: "2025-03-10T12:00Z", joules: 3600 }, // the minute of `to`
      { minute: "2025-03-10T12:01Z", joules: 100 }, // after
    ])
    .execute();
}

describe("GET /api/usage", () => {
  it("computes the window's figures from the request log, keys and energy", async () => {
    const s = await studio();
    await seed(s);
    const { status, body } = await s.api(`/api/usage?${WINDOW}`);
    expect(status).toBe(200);
    expect(body.window).toEqual({ from: FROM, to: TO, days: 3 });
    expect(body.filters).toEqual({ model: null, keyId: null });
    expect(body.totals).toEqual({
      requests: 6,
      succeeded: 4,
      failed: 2,
      successRate: 4 / 6,
      promptTokens: 1000,
      completionTokens: 500,
      cachedTokens: 120,
      totalTokens: 1500,
    });
    // succeeded durations [1000, 2000, 3000, 4000]; ttft [40, 60, 100]
    expect(body.latencyMs.p50).toBeCloseTo(2500, 9);
    expect(body.latencyMs.p95).toBeCloseTo(3850, 9);
    expect(body.latencyMs.p99).toBeCloseTo(3970, 9);
    expect(body.ttftMs.p50).toBeCloseTo(60, 9);
    expect(body.ttftMs.p95).toBeCloseTo(96, 9);
    expect(body.ttftMs.p99).toBeCloseTo(99.2, 9);
    expect(body.tokensPerRequest).toEqual({ requests: 4, prompt: 250, completion: 125, total: 375 });

    expect(body.byModel.map((m: { model: string; requests: number }) => [m.model, m.requests])).toEqual([
      ["m1", 3],
      ["m2", 3],
    ]);
    expect(body.byModel[0].latencyP95Ms).toBeCloseTo(2900, 9); // [1000, 2000, 3000] rank 1.9
    expect(body.byModel[1]).toMatchObject({ successRate: 1 / 3, totalTokens: 600, latencyP50Ms: 4000 });

    expect(
      body.byKey.map((k: { keyId: string; name: string; prefix: string | null; requests: number }) => [
        k.keyId,
        k.name,
        k.prefix,
        k.requests,
      ]),
    ).toEqual([
      [KEY_A, "alpha", "sp-aaaa", 3],
      [KEY_B, "beta", "sp-bbbb", 2],
      ["admin", "admin / loopback", null, 1],
    ]);
    expect(body.byKey[1].latencyP95Ms).toBeCloseTo(3950, 9); // [3000, 4000] rank 0.95
    expect(body.byKey[1].ttftP50Ms).toBeCloseTo(80, 9);

    expect(body.days).toEqual([
      {
        date: "2025-03-08",
        requests: 2,
        failures: 0,
        promptTokens: 300,
        completionTokens: 150,
        totalTokens: 450,
      },
      { date: "2025-03-09", requests: 1, failures: 1, promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      {
        date: "2025-03-10",
        requests: 3,
        failures: 1,
        promptTokens: 700,
        completionTokens: 350,
        totalTokens: 1050,
      },
    ]);
    expect(body.hourly).toHaveLength(24);
    expect(body.hourly.filter((h: { requests: number }) => h.requests > 0)).toEqual([
      { hour: 9, requests: 3, totalTokens: 900 },
      { hour: 11, requests: 2, totalTokens: 600 },
      { hour: 14, requests: 1, totalTokens: 0 },
    ]);
    // current week (03-03T12:00, 03-10T12:00]: rows 1-6, 1500 tokens; the week before: row 7, 1500 tokens
    expect(body.weekOverWeek).toEqual({
      current: { from: "2025-03-03T12:00:00.000Z", to: TO, requests: 6, totalTokens: 1500 },
      previous: {
        from: "2025-02-24T12:00:00.000Z",
        to: "2025-03-03T12:00:00.000Z",
        requests: 1,
        totalTokens: 1500,
      },
      requestsChangePercent: 500,
      tokensChangePercent: 0,
    });
    // 3600 + 3600 J = 2 Wh; 2 / 1500 * 1e6 Wh per million tokens
    expect(body.energy.minutes).toBe(2);
    expect(body.energy.joules).toBe(7200);
    expect(body.energy.wh).toBeCloseTo(2, 12);
    expect(body.energy.whPerMillionTokens).toBeCloseTo(4000 / 3, 9);
  });

  it("filters by model and by key ('admin': no gateway key)", async () => {
    const s = await studio();
    await seed(s);
    const m2 = await s.api(`/api/usage?${WINDOW}&model=m2`);
    expect(m2.status).toBe(200);
    expect(m2.body.filters).toEqual({ model: "m2", keyId: null });
    expect(m2.body.totals).toMatchObject({ requests: 3, succeeded: 1, totalTokens: 600 });
    expect(m2.body.energy.joules).toBe(7200);
    expect(m2.body.energy.whPerMillionTokens).toBeNull(); // all-GPU energy is not split by model

    const admin = await s.api(`/api/usage?${WINDOW}&keyId=admin`);
    expect(admin.body.totals).toMatchObject({ requests: 1, promptTokens: 200, completionTokens: 100 });
    expect(admin.body.byKey.map((k: { keyId: string }) => k.keyId)).toEqual(["admin"]);
    expect(admin.body.weekOverWeek.previous.requests).toBe(1); // row 7 is admin too

    const keyA = await s.api(`/api/usage?${WINDOW}&keyId=${KEY_A}`);
    expect(keyA.body.totals).toMatchObject({ requests: 3, succeeded: 1, failed: 2, totalTokens: 150 });
    expect(keyA.body.weekOverWeek.requestsChangePercent).toBeNull(); // nothing the week before
  });

  it("defaults to the last 14 UTC days up to now, every day listed", async () => {
    const s = await studio();
    const before = Date.now();
    const { status, body } = await s.api("/api/usage");
    expect(status).toBe(200);
    expect(body.window.days).toBe(14);
    expect(body.days).toHaveLength(14);
    expect(body.days.at(-1).date).toBe(new Date(Date.parse(body.window.to)).toISOString().slice(0, 10));
    expect(Date.parse(body.window.to)).toBeGreaterThanOrEqual(before);
    expect(body.window.from).toMatch(/T00:00:00\.000Z$/);
    expect(body.totals.requests).toBe(0);
    const one = await s.api("/api/usage?days=1");
    expect(one.body.days).toHaveLength(1);
  });

  it("refuses bad queries, naming the field", async () => {
    const s = await studio();
    for (const [query, field] of [
      ["days=0", "querystring.days"],
      ["days=367", "querystring.days"],
      ["days=abc", "querystring.days"],
      ["from=yesterday", "querystring.from"],
      ["colour=red", "querystring"],
    ] as const) {
      const { status, body } = await s.api(`/api/usage?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.code).toBe("INVALID_ARGUMENT");
      expect(body.error.message).toContain(field);
    }
    const reversed = await s.api(`/api/usage?from=${encodeURIComponent(TO)}&to=${encodeURIComponent(FROM)}`);
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.message).toContain("querystring.from");
    const tooLong = await s.api(`/api/usage?from=2024-01-01T00:00:00Z&to=${encodeURIComponent(TO)}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toContain("366 days");
  });
});

describe("GET /api/usage/requests", () => {
  it("pages the request log newest first with a `before` cursor", async () => {
    const s = await studio();
    await seed(s);
    const ids = (body: { requests: Array<{ id: number }> }) => body.requests.map((r) => r.id);
    const first = await s.api("/api/usage/requests?limit=3");
    expect(first.status).toBe(200);
    expect(ids(first.body)).toEqual([8, 7, 6]);
    expect(first.body.nextBefore).toBe(6);
    const second = await s.api(`/api/usage/requests?limit=3&before=${first.body.nextBefore}`);
    expect(ids(second.body)).toEqual([5, 4, 3]);
    expect(second.body.nextBefore).toBe(3);
    const last = await s.api(`/api/usage/requests?limit=3&before=${second.body.nextBefore}`);
    expect(ids(last.body)).toEqual([2, 1]);
    expect(last.body.nextBefore).toBeNull();
    const all = await s.api("/api/usage/requests");
    expect(ids(all.body)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(all.body.nextBefore).toBeNull();
    // a row in full, with its key
    expect(all.body.requests.find((r: { id: number }) => r.id === 4)).toEqual({
      id: 4,
      requestId: "req-4",
      at: "2025-03-10T09:05:00.000Z",
      apiKeyId: KEY_B,
      keyName: "beta",
      keyPrefix: "sp-bbbb",
      model: "m1",
      instance: "inst",
      endpoint: "chat.completions",
      stream: true,
      status: 200,
      ok: true,
      error: null,
      promptTokens: 300,
      completionTokens: 150,
      cachedTokens: 100,
      ttftMs: 60,
      durationMs: 3000,
      chatSessionId: "chat-1",
    });
    expect(all.body.requests.find((r: { id: number }) => r.id === 2)).toMatchObject({
      apiKeyId: null,
      keyName: "admin / loopback",
      keyPrefix: null,
    });
  });

  it("filters by status, model, key and chat session", async () => {
    const s = await studio();
    await seed(s);
    const ids = async (query: string) =>
      (await s.api(`/api/usage/requests?${query}`)).body.requests.map((r: { id: number }) => r.id);
    expect(await ids("status=error")).toEqual([5, 3]);
    expect(await ids("status=ok&model=m2")).toEqual([6]);
    expect(await ids("keyId=admin")).toEqual([8, 7, 2]);
    expect(await ids(`keyId=${KEY_A}&status=error`)).toEqual([5, 3]);
    expect(await ids("chatSessionId=chat-1")).toEqual([4]);
    expect(await ids("model=nope")).toEqual([]);
  });

  it("refuses bad queries, naming the field", async () => {
    const s = await studio();
    for (const [query, field] of [
      ["status=weird", "querystring.status"],
      ["limit=0", "querystring.limit"],
      ["limit=501", "querystring.limit"],
      ["before=-1", "querystring.before"],
    ] as const) {
      const { status, body } = await s.api(`/api/usage/requests?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.code).toBe("INVALID_ARGUMENT");
      expect(body.error.message).toContain(field);
    }
  });
});

describe("GPU energy per minute", () => {
  it("the sampler's joules reach gpu_energy by UTC minute, flushed at stop", async () => {
    const s = await startTestStudio({ gpuSampleMs: 100 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      await s.close();
    }
    const db = new SQLite(join(s.dataDir, DATABASE_FILE), { readonly: true });
    try {
      const minutes = db.prepare("select minute, joules from gpu_energy").all() as Array<{
        minute: string;
        joules: number;
      }>;
      expect(minutes.length).toBeGreaterThanOrEqual(1);
      for (const m of minutes) expect(m.minute).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
      const joules = minutes.reduce((sum, m) => sum + m.joules, 0);
      expect(joules).toBeGreaterThan(0);
      // the same joules as the lifetime energy counter (Wh)
      const lifetime = db.prepare("select value from lifetime_metrics where key = 'energy_wh'").get() as
        | { value: number }
        | undefined;
      expect(lifetime?.value).toBeCloseTo(joules / 3600, 6);
    } finally {
      db.close();
    }
  });

  it("keeps a minute in memory until the next one starts, then upserts (adding to what is there)", async () => {
    // one sample an hour: the live sampler adds no energy while this runs
    const s = await studio({ gpuSampleMs: 3_600_000 });
    const minute = (m: string) => Date.parse(`2025-01-01T10:${m}.000Z`);
    const stored = async () =>
      s.ctx.db
        .selectFrom("gpu_energy")
        .select(["minute", "joules"])
        .where("minute", "like", "2025-01-01%")
        .orderBy("minute")
        .execute();
    await s.ctx.db.insertInto("gpu_energy").values({ minute: "2025-01-01T10:00Z", joules: 100 }).execute();
    addEnergy(s.ctx, minute("00:10"), 10);
    addEnergy(s.ctx, minute("00:50"), 5);
    await flushEnergy(s.ctx, "2025-01-01T10:00Z"); // the growing minute is kept back
    expect(await stored()).toEqual([{ minute: "2025-01-01T10:00Z", joules: 100 }]);
    addEnergy(s.ctx, minute("01:05"), 7); // a new minute: 10:00 is written
    await flushEnergy(s.ctx, "2025-01-01T10:01Z");
    expect(await stored()).toEqual([{ minute: "2025-01-01T10:00Z", joules: 115 }]);
    await flushEnergy(s.ctx); // at stop: everything
    expect(await stored()).toEqual([
      { minute: "2025-01-01T10:00Z", joules: 115 },
      { minute: "2025-01-01T10:01Z", joules: 7 },
    ]);
  });
});
