/**
 * API key check: `Authorization: Bearer KEY` or `X-API-Key: KEY`, compared in constant time (both
 * sides hashed to a fixed length first, so neither content nor length leaks through timing).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { ServepilotError } from "../../core/errors.js";
import type { StudioContext } from "../context.js";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

export function keysMatch(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function presentedKey(request: FastifyRequest): string | null {
  const authorization = request.headers.authorization;
  if (typeof authorization === "string") {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return (match[1] as string).trim();
  }
  const header = request.headers["x-api-key"];
  if (typeof header === "string" && header.length > 0) return header.trim();
  return null;
}

export function isGatewayPath(url: string): boolean {
  const path = url.split("?")[0] ?? url;
  return path === "/v1" || path.startsWith("/v1/");
}

const HINT = "send Authorization: Bearer KEY or X-API-Key: KEY";

/**
 * Who may call what. The admin key (--api-key) reaches everything. A gateway key (created under
 * /api/keys) reaches /v1 only, within its limits, and names the request's key in the request log.
 * Without an admin key (loopback only) everything is open, but a presented gateway key still counts
 * (usage per key) and a revoked one is refused; an unknown key is ignored there, because OpenAI clients
 * always send one ("EMPTY", "sk-no-key").
 */
export async function authenticate(request: FastifyRequest, ctx: StudioContext): Promise<void> {
  const adminKey = ctx.options.apiKey;
  const secret = presentedKey(request);
  if (secret !== null && adminKey !== null && keysMatch(secret, adminKey)) return;
  const keys = ctx.services.keys;
  const found = secret === null || keys === undefined ? null : await keys.lookup(secret);
  if (found?.revoked) {
    throw new ServepilotError("UNAUTHORIZED", `API key "${found.name}" has been revoked`, { hint: HINT });
  }
  if (found) {
    if (!isGatewayPath(request.url)) {
      throw new ServepilotError("PERMISSION_DENIED", "a gateway API key can only call /v1", {
        hint: "use the admin key (--api-key) for /api",
      });
    }
    const { revoked: _revoked, ...key } = found;
    request.apiKeyId = key.id;
    request.gatewayKey = key;
    await keys?.admit(key);
    return;
  }
  if (adminKey === null) return;
  throw new ServepilotError("UNAUTHORIZED", secret === null ? "API key required" : "invalid API key", {
    hint: HINT,
  });
}

/** Paths anyone may reach: liveness for load balancers and the UI's static files. */
export function isPublicPath(url: string): boolean {
  const path = url.split("?")[0] ?? url;
  if (path === "/api/health") return true;
  return !(path.startsWith("/api/") || path === "/api" || path.startsWith("/v1/") || path === "/metrics");
}
