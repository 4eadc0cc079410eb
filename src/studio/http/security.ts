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
  if (adminKey === null && !hostAllowed(request.headers.host, ctx.options.host)) {
    throw new ServepilotError(
      "PERMISSION_DENIED",
      `Host ${JSON.stringify(request.headers.host)} is not this studio's address`,
      { hint: "a studio without --api-key answers only requests addressed to localhost / 127.0.0.1" },
    );
  }
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

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/**
 * DNS-rebinding protection for a studio without an API key (which listens on loopback only): a web
 * page from another site can make a browser resolve its own name to 127.0.0.1 and then call the
 * studio as "same origin". Such requests carry the attacker's name in Host; only loopback names (and
 * the address the studio was told to listen on) are accepted.
 */
export function hostAllowed(hostHeader: string | undefined, listenHost: string): boolean {
  if (hostHeader === undefined || hostHeader.length === 0) return true; // HTTP/1.0 clients, curl -H 'Host:'
  const name = hostHeader.startsWith("[")
    ? hostHeader.slice(0, hostHeader.indexOf("]") + 1)
    : (hostHeader.split(":")[0] ?? "");
  const lower = name.toLowerCase();
  return LOOPBACK_NAMES.has(lower) || lower === listenHost.toLowerCase() || lower.endsWith(".localhost");
}

/** Paths anyone may reach: liveness for load balancers and the UI's static files. */
export function isPublicPath(url: string): boolean {
  const path = url.split("?")[0] ?? url;
  if (path === "/api/health") return true;
  return !(path.startsWith("/api/") || path === "/api" || path.startsWith("/v1/") || path === "/metrics");
}
