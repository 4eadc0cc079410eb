/**
 * The studio's frame: health, status, config, OpenAPI, errors, API keys, request ids, /metrics,
 * SQLite migrations and the event stream's replay — over real HTTP against a real studio.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { ServepilotError } from "../../src/core/errors.js";
import { MIGRATIONS } from "../../src/studio/db/migrations.js";
import { keysMatch } from "../../src/studio/http/security.js";
import { startStudio } from "../../src/studio/index.js";
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

const KEY = "test-key-0123456789abcdef";

describe("studio frame", () => {
  it("answers health, status and config, and describes its API in OpenAPI", async () => {
    const s = await studio();
    const health = await s.api("/api/health");
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("ok");
    expect(health.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const config = await s.api("/api/config");
    expect(config.body).toMatchObject({
      host: "127.0.0.1",
      apiKeyRequired: false,
      allowCustomCommands: false,
    });
    // the port actually listened on (the harness asks for 0: any free port), not the configured 0
    expect(config.body.port).toBe(Number(new URL(s.url).port));
    expect(config.body.port).toBeGreaterThan(0);
    expect(config.body.configuredPort).toBe(0);
    const openapi = await s.api("/api/openapi.json");
    expect(openapi.body.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(["/api/health", "/api/status", "/api/events"]),
    );
    const status = await s.api("/api/status");
    expect(status.body.version).toBe(health.body.version);
  });

  it("answers an unknown route with 404 and an error code, and keeps a valid request id", async () => {
    const s = await studio();
    const response = await s.api("/api/no-such-thing", { headers: { "x-request-id": "abc-123" } });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("NOT_FOUND");
    expect(response.headers.get("x-request-id")).toBe("abc-123");
    const bad = await s.api("/api/health", { headers: { "x-request-id": "has spaces and; semicolons" } });
    expect(bad.headers.get("x-request-id")).not.toBe("has spaces and; semicolons");
  });

  it("rejects a malformed query with 400 naming the field", async () => {
    const s = await studio();
    const response = await fetch(`${s.url}/api/events?types=gpu,bogus`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: { code: string; message: string; details: { fields: Array<{ field: string }> } };
    };
    expect(body.error.code).toBe("INVALID_ARGUMENT");
    expect(body.error.details.fields[0]?.field).toBe("querystring.types");
    expect(body.error.message).toContain("bogus");
  });

  it("requires the API key everywhere but /api/health when one is set", async () => {
    const s = await studio({ apiKey: KEY });
    expect((await s.api("/api/health", { headers: { authorization: "" } })).status).toBe(200);
    const none = await fetch(`${s.url}/api/status`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    expect(
      (await fetch(`${s.url}/api/status`, { headers: { authorization: "Bearer wrong-key-000000000" } }))
        .status,
    ).toBe(401);
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.url}/api/status`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(
      200,
    );
    expect((await fetch(`${s.url}/api/status`, { headers: { "x-api-key": KEY } })).status).toBe(200);
  });

  it("refuses to bind a non-loopback address without an API key, and short keys", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sp-studio-"));
    await expect(startStudio({ dataDir, host: "0.0.0.0", port: 0 })).rejects.toThrow(/requires an API key/);
    await expect(startStudio({ dataDir, port: 0, apiKey: "short" })).rejects.toThrow(
      /at least 16 characters/,
    );
    const error = await startStudio({ dataDir, host: "0.0.0.0", port: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServepilotError);
    expect((error as ServepilotError).exitCode).toBe(2);
  });

  it("compares keys by content only", () => {
    expect(keysMatch(KEY, KEY)).toBe(true);
    expect(keysMatch(`${KEY}x`, KEY)).toBe(false);
    expect(keysMatch("", KEY)).toBe(false);
  });

  it("exposes its own Prometheus metrics, counting requests by route", async () => {
    const s = await studio();
    await s.api("/api/health");
    const text = (await s.api("/metrics")).body as string;
    expect(text).toMatch(
      /servepilot_studio_http_requests_total\{method="GET",route="\/api\/health",status="200"\} [1-9]/,
    );
    expect(text).toContain("servepilot_studio_sse_clients 0");
  });

  it("creates the SQLite database in WAL mode with every migration applied, once", async () => {
    const s = await studio();
    await s.close();
    open.pop();
    const again = await studio({ dataDir: s.dataDir });
    await again.close();
    open.pop();
    const db = new SQLite(join(s.dataDir, "studio.db"), { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const applied = db.prepare("select name from kysely_migration order by name").all() as Array<{
      name: string;
    }>;
    expect(applied.map((r) => r.name)).toEqual(Object.keys(MIGRATIONS).sort());
    expect(applied.map((r) => r.name)).toEqual([
      "0001_initial",
      "0002_gateway",
      "0003_chat_attachments",
      "0004_engine_baselines",
    ]);
    const tables = (
      db.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>
    ).map((r) => r.name);
    expect(tables).toEqual(
      expect.arrayContaining(["recipes", "launches", "peak_metrics", "lifetime_metrics", "downloads"]),
    );
    db.close();
  });

  it("sends no CORS headers unless origins are configured, then only for those", async () => {
    const plain = await studio();
    const noCors = await fetch(`${plain.url}/api/health`, { headers: { origin: "https://evil.example" } });
    expect(noCors.headers.get("access-control-allow-origin")).toBeNull();
    const withCors = await studio({ corsOrigins: ["https://ui.example"] });
    const allowed = await fetch(`${withCors.url}/api/health`, { headers: { origin: "https://ui.example" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://ui.example");
    const other = await fetch(`${withCors.url}/api/health`, { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers 429 past the rate limit and 413 past the body limit", async () => {
    const s = await studio({ rateLimitPerMinute: 3, bodyLimitBytes: 1024 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await s.api("/api/status")).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await s.api("/api/config");
    expect(limited.body.error.code).toBe("RATE_LIMITED");
    // liveness probes are never refused
    expect((await s.api("/api/health")).status).toBe(200);
    const big = await studio({ bodyLimitBytes: 1024 });
    const response = await big.api("/api/events", { method: "POST", body: { blob: "x".repeat(4096) } });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe("INVALID_ARGUMENT");
  });
});
