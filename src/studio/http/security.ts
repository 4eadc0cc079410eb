/**
 * API key check: `Authorization: Bearer KEY` or `X-API-Key: KEY`, compared in constant time (both
 * sides hashed to a fixed length first, so neither content nor length leaks through timing).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";

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

/** Paths anyone may reach: liveness for load balancers and the UI's static files. */
export function isPublicPath(url: string): boolean {
  const path = url.split("?")[0] ?? url;
  if (path === "/api/health") return true;
  return !(path.startsWith("/api/") || path === "/api" || path.startsWith("/v1/") || path === "/metrics");
}
