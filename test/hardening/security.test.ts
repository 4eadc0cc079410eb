/**
 * Hardening: authentication over every route the studio has (read from its own OpenAPI document, so a
 * new route is covered the day it is added), gateway keys kept to /v1, path traversal in ids, argument
 * injection through launch and recipe fields, oversized bodies, CORS. Real HTTP against a real studio.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validRecipe } from "../studio/catalog-helpers.js";
import { startTestStudio, type TestStudio } from "../studio/studio-harness.js";

const ADMIN = "hardening-admin-key-0123456789";
let s: TestStudio;
let gatewayKey = "";

beforeAll(async () => {
  s = await startTestStudio({ apiKey: ADMIN });
  const created = await s.api("/api/keys", { body: { name: "hardening" } });
  expect(created.status).toBe(201);
  gatewayKey = created.body.key;
});
afterAll(async () => {
  await s.close();
});

interface Operation {
  method: string;
  path: string;
}

/** Every operation of the OpenAPI document, with path parameters filled in. */
async function operations(): Promise<Operation[]> {
  const doc = (await s.api("/api/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      out.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, "x") });
    }
  }
  return out;
}

const PUBLIC = new Set(["GET /api/health", "GET /"]);

async function call(op: Operation, headers: Record<string, string> = {}) {
  const hasBody = op.method !== "GET" && op.method !== "DELETE";
  const response = await fetch(`${s.url}${op.path}`, {
    method: op.method,
    headers: hasBody ? { "content-type": "application/json", ...headers } : headers,
    ...(hasBody ? { body: "{}" } : {}),
  });
  await response.arrayBuffer();
  return response.status;
}

describe("authentication on every route", () => {
  it("the OpenAPI document lists the studio's routes", async () => {
    const ops = await operations();
    expect(ops.length).toBeGreaterThan(40);
    expect(ops.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining(["POST /api/instances", "GET /api/keys", "POST /v1/chat/completions"]),
    );
  });

  it("every /api and /v1 route without a key, or with a wrong one, is 401", async () => {
    const failures: string[] = [];
    for (const op of await operations()) {
      if (PUBLIC.has(`${op.method} ${op.path}`)) continue;
      const variants: Array<Record<string, string>> = [
        {},
        { authorization: "Bearer wrong-key-wrong-key-wrong" },
        { "x-api-key": "nope" },
      ];
      for (const headers of variants) {
        const status = await call(op, headers);
        if (status !== 401) failures.push(`${op.method} ${op.path} ${JSON.stringify(headers)} -> ${status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("a gateway key reaches no /api route (403) and /metrics neither", async () => {
    const failures: string[] = [];
    for (const op of await operations()) {
      if (PUBLIC.has(`${op.method} ${op.path}`) || op.path.startsWith("/v1/")) continue;
      const status = await call(op, { authorization: `Bearer ${gatewayKey}` });
      if (status !== 403) failures.push(`${op.method} ${op.path} -> ${status}`);
    }
    expect(failures).toEqual([]);
    expect(await call({ method: "GET", path: "/metrics" }, { authorization: `Bearer ${gatewayKey}` })).toBe(
      403,
    );
    expect(await call({ method: "GET", path: "/v1/models" }, { authorization: `Bearer ${gatewayKey}` })).toBe(
      200,
    );
  });

  it("unknown paths are 401 before they are 404 (nothing is revealed without a key)", async () => {
    expect(await call({ method: "GET", path: "/api/does-not-exist" })).toBe(401);
    expect(await call({ method: "GET", path: "/api/does-not-exist" }, { "x-api-key": ADMIN })).toBe(404);
  });
});

describe("hostile input", () => {
  it("path traversal in ids and names is refused, never reaches a file", async () => {
    for (const path of [
      "/api/instances/..%2F..%2Fetc%2Fpasswd",
      "/api/instances/..%2F..%2Fetc%2Fpasswd/logs",
      "/api/recipes/..%2Fsecret",
      "/api/keys/..%2F..%2F",
      "/api/instances/%2e%2e",
    ]) {
      const reply = await s.api(path);
      expect([400, 404], `${path}: ${reply.status}`).toContain(reply.status);
      expect(JSON.stringify(reply.body)).not.toContain("root:");
    }
  });

  it("argument injection through launch fields and model ids is refused with the field named", async () => {
    const attempts: Array<[Record<string, unknown>, string]> = [
      [{ model: "Qwen/Qwen3-8B", name: "x; rm -rf /" }, "body.name"],
      [{ model: "Qwen/Qwen3-8B", name: "$(touch /tmp/pwned)" }, "body.name"],
      [{ model: "Qwen/Qwen3-8B", name: "a\nb" }, "body.name"],
      [{ model: "Qwen/Qwen3-8B", recipeId: "--help" }, "body.recipeId"],
      [{ model: "Qwen/Qwen3-8B", engine: "vllm --enforce-eager" }, "body.engine"],
    ];
    for (const [body, field] of attempts) {
      const reply = await s.api("/api/instances", { body });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.message).toContain(field);
    }
    // a model id that looks like a flag never becomes one: it is refused as a model, nothing starts
    const flagModel = await s.api("/api/instances", { body: { model: "--trust-remote-code" } });
    expect(flagModel.status).toBeGreaterThanOrEqual(400);
    expect((await s.api("/api/instances")).body.instances).toEqual([]);
  });

  it("recipe extra args cannot smuggle flags the engine lacks or shell syntax", async () => {
    // a valid recipe but for its extra args, so that the refusal can only be theirs
    expect((await s.api("/api/recipes", { body: validRecipe({ id: "inject-ok" }) })).status).toBe(201);
    for (const extraArgs of [
      ["--no-such-flag"],
      ["; rm -rf /"],
      ["$(id)"],
      ["--port", "1\n--host 0.0.0.0"],
    ]) {
      const reply = await s.api("/api/recipes", { body: validRecipe({ id: "inject", extraArgs }) });
      expect(reply.status, JSON.stringify(extraArgs)).toBe(400);
      const fields = reply.body.error.details.fields.map((f: { field: string }) => f.field.split(".")[1]);
      expect(new Set(fields)).toEqual(new Set(["extraArgs"]));
    }
  });

  it("oversized bodies are 413 on /api (2 MiB) and /v1 (32 MiB), and the studio keeps serving", async () => {
    const big = JSON.stringify({ model: "x".repeat(3 * 1024 * 1024) });
    const api = await s.api("/api/instances", { body: big });
    expect(api.status).toBe(413);
    const huge = JSON.stringify({ model: "m", prompt: "y".repeat(33 * 1024 * 1024) });
    const v1 = await s.api("/v1/completions", { body: huge });
    expect(v1.status).toBe(413);
    expect(v1.body.error).toMatchObject({ type: "invalid_request_error" });
    expect((await s.api("/api/health")).status).toBe(200);
  });

  it("CORS is off unless an origin is configured", async () => {
    const reply = await fetch(`${s.url}/api/health`, { headers: { origin: "https://evil.example" } });
    expect(reply.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${s.url}/api/instances`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("DNS rebinding (a studio without a key)", () => {
  it("answers only requests addressed to a loopback name", async () => {
    const { request } = await import("node:http");
    const open = await startTestStudio();
    const port = Number(new URL(open.url).port);
    const get = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path: "/api/status", headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
    try {
      expect(await get("evil.example")).toBe(403);
      expect(await get(`attacker.example:${port}`)).toBe(403);
      expect(await get(`localhost:${port}`)).toBe(200);
      expect(await get(`127.0.0.1:${port}`)).toBe(200);
      expect(await get(`[::1]:${port}`)).toBe(200);
    } finally {
      await open.close();
    }
  });
});
