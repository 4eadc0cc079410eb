/**
 * Hardening: every body-taking route of the studio (from its OpenAPI document) fed random JSON
 * values, random text that is not JSON, and random path parameters (fast-check). A route may refuse
 * (4xx) or accept (2xx) — never answer 5xx, hang, or take the studio down. Routes that would start
 * processes or call out (launch, switch, downloads, benchmarks, chat completions, the gateway) get
 * the malformed cases only: a valid random body there would launch an engine, not test parsing.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStudio, type TestStudio } from "../studio/studio-harness.js";

let s: TestStudio;
beforeAll(async () => {
  s = await startTestStudio({ rateLimitPerMinute: 0 });
});
afterAll(async () => {
  await s.close();
});

/** Routes where a body that happens to be valid has effects beyond the database. */
const EFFECTFUL = [
  /^\/api\/instances/,
  /^\/api\/downloads/,
  /^\/api\/cache/,
  /^\/api\/benchmarks/,
  /\/complete$/,
  /^\/v1\//,
  /^\/api\/mcp/,
];

interface Operation {
  method: string;
  path: string;
}

async function bodyOperations(): Promise<Operation[]> {
  const doc = (await s.api("/api/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods)
      .filter((m) => ["post", "put", "patch"].includes(m))
      .map((m) => ({ method: m.toUpperCase(), path })),
  );
}

const segment = fc.oneof(
  fc.constantFrom("..", "%2e%2e", "x".repeat(300), "%00", "a b", "ü", "-rf", "$(id)"),
  fc.stringMatching(/^[a-z0-9._-]{1,20}$/),
);

async function send(op: Operation, param: string, body: string, contentType = "application/json") {
  const path = op.path.replace(/\{[^}]+\}/g, encodeURIComponent(param).replace(/%25/g, "%"));
  const response = await fetch(`${s.url}${path}`, {
    method: op.method,
    headers: { "content-type": contentType },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return response.status;
}

describe("every body schema under random input", () => {
  it("never answers 5xx", async () => {
    const ops = await bodyOperations();
    expect(ops.length).toBeGreaterThan(15);
    const failures: string[] = [];
    for (const op of ops) {
      const effectful = EFFECTFUL.some((re) => re.test(op.path));
      const bodies = effectful
        ? fc.oneof(
            fc.string().filter((t) => {
              try {
                JSON.parse(t);
                return false;
              } catch {
                return true;
              }
            }),
            fc.constantFrom("[]", "null", "42", '"text"', "{", '{"a":'),
          )
        : fc.oneof(
            fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
            fc.string(),
            fc.constantFrom("{}", "[]", "null", '{"__proto__": {"polluted": true}}'),
          );
      await fc.assert(
        fc.asyncProperty(segment, bodies, async (param, body) => {
          const status = await send(op, param, body);
          if (status >= 500)
            failures.push(`${op.method} ${op.path} [${param}] ${body.slice(0, 80)} -> ${status}`);
          return true;
        }),
        { numRuns: 25 },
      );
    }
    expect(failures).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await s.api("/api/health")).status).toBe(200);
  }, 300_000);
});
