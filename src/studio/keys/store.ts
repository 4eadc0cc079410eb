/**
 * Gateway API keys: created with a random secret that is shown once, stored only as its SHA-256 hash
 * (a key has 192 random bits, so a fast hash is enough: there is nothing to brute-force), listed by a
 * short prefix, revoked rather than deleted so that the request log keeps naming them.
 *
 * Per-key limits are checked here too: a requests-per-minute limit (a sliding window over the last 60
 * seconds of admitted requests) and a token quota (prompt + completion tokens over the key's life,
 * counted from the request log once, then kept up to date by the gateway as it records requests).
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { ServepilotError } from "../../core/errors.js";
import type { GatewayKey, KeyService } from "../context.js";
import type { ApiKeysTable, StudioDatabase } from "../db/schema.js";

/** Secrets look like OpenAI's: a recognisable prefix, then 32 URL-safe characters (192 bits). */
export const KEY_PREFIX = "sp-";
const SHOWN_PREFIX_LENGTH = KEY_PREFIX.length + 6;

export function hashKey(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  scope: "gateway";
  rateLimitPerMinute: number | null;
  tokenQuota: number | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

function view(row: ApiKeysTable): KeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scope: row.scope,
    rateLimitPerMinute: row.rate_limit_per_minute,
    tokenQuota: row.token_quota,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

export interface KeySettings {
  name: string;
  rateLimitPerMinute?: number | null;
  tokenQuota?: number | null;
}

const WINDOW_MS = 60_000;
/** last_used_at is written at most this often per key (it is shown, not counted). */
const LAST_USED_WRITE_MS = 60_000;

export class KeyStore implements KeyService {
  /** Admission times within the last minute, per key with a rate limit. */
  private readonly windows = new Map<string, number[]>();
  /** Tokens used per key (loaded from the request log on first need). */
  private readonly used = new Map<string, number>();
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(
    private readonly db: Kysely<StudioDatabase>,
    private readonly now: () => number = Date.now,
  ) {}

  async create(settings: KeySettings): Promise<KeyView & { key: string }> {
    const secret = `${KEY_PREFIX}${randomBytes(24).toString("base64url")}`;
    const row: ApiKeysTable = {
      id: randomUUID(),
      name: settings.name,
      prefix: secret.slice(0, SHOWN_PREFIX_LENGTH),
      hash: hashKey(secret),
      scope: "gateway",
      rate_limit_per_minute: settings.rateLimitPerMinute ?? null,
      token_quota: settings.tokenQuota ?? null,
      created_at: new Date(this.now()).toISOString(),
      revoked_at: null,
      last_used_at: null,
    };
    await this.db.insertInto("api_keys").values(row).execute();
    return { ...view(row), key: secret };
  }

  async list(): Promise<KeyView[]> {
    const rows = await this.db.selectFrom("api_keys").selectAll().orderBy("created_at", "desc").execute();
    return rows.map(view);
  }

  async get(id: string): Promise<KeyView> {
    const row = await this.db.selectFrom("api_keys").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new ServepilotError("NOT_FOUND", `no API key with id ${id}`);
    return view(row);
  }

  async update(id: string, changes: Partial<KeySettings>): Promise<KeyView> {
    await this.get(id);
    const values: Partial<ApiKeysTable> = {};
    if (changes.name !== undefined) values.name = changes.name;
    if (changes.rateLimitPerMinute !== undefined) values.rate_limit_per_minute = changes.rateLimitPerMinute;
    if (changes.tokenQuota !== undefined) values.token_quota = changes.tokenQuota;
    if (Object.keys(values).length > 0) {
      await this.db.updateTable("api_keys").set(values).where("id", "=", id).execute();
    }
    return this.get(id);
  }

  /** Revoking is final: the key is refused from now on; its rows stay for the request log. */
  async revoke(id: string): Promise<KeyView> {
    const key = await this.get(id);
    if (key.revokedAt !== null) return key;
    await this.db
      .updateTable("api_keys")
      .set({ revoked_at: new Date(this.now()).toISOString() })
      .where("id", "=", id)
      .execute();
    this.windows.delete(id);
    return this.get(id);
  }

  /** Tokens (prompt + completion) and requests recorded for a key. */
  async usage(id: string) {
    await this.get(id);
    const row = await this.db
      .selectFrom("requests")
      .select((eb) => [
        eb.fn.countAll<number>().as("requests"),
        eb.fn.coalesce(eb.fn.sum<number>("prompt_tokens"), eb.lit(0)).as("promptTokens"),
        eb.fn.coalesce(eb.fn.sum<number>("completion_tokens"), eb.lit(0)).as("completionTokens"),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when(eb.and([eb("status", ">=", 200), eb("status", "<", 300)]))
              .then(1)
              .else(0)
              .end(),
          )
          .as("succeeded"),
      ])
      .where("api_key_id", "=", id)
      .executeTakeFirstOrThrow();
    const requests = Number(row.requests);
    const promptTokens = Number(row.promptTokens);
    const completionTokens = Number(row.completionTokens);
    return {
      requests,
      succeeded: Number(row.succeeded ?? 0),
      promptTokens,
      completionTokens,
      totalTokens: promptTokens + completionTokens,
    };
  }

  /**
   * The key whose secret this is: a live key, or a revoked one (the caller refuses it with a reason);
   * null when no key has this secret.
   */
  async lookup(secret: string): Promise<(GatewayKey & { revoked: boolean }) | null> {
    const row = await this.db
      .selectFrom("api_keys")
      .selectAll()
      .where("hash", "=", hashKey(secret))
      .executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      name: row.name,
      rateLimitPerMinute: row.rate_limit_per_minute,
      tokenQuota: row.token_quota,
      revoked: row.revoked_at !== null,
    };
  }

  async authenticate(secret: string): Promise<GatewayKey | null> {
    const key = await this.lookup(secret);
    if (key === null || key.revoked) return null;
    const { revoked: _revoked, ...live } = key;
    return live;
  }

  async admit(key: GatewayKey): Promise<void> {
    const now = this.now();
    if (key.tokenQuota !== null) {
      const used = await this.tokensUsed(key.id);
      if (used >= key.tokenQuota) {
        throw new ServepilotError(
          "RATE_LIMITED",
          `API key "${key.name}" has used its token quota (${used} of ${key.tokenQuota} tokens)`,
          { hint: "raise the key's tokenQuota, or use another key", details: { reason: "quota" } },
        );
      }
    }
    if (key.rateLimitPerMinute !== null) {
      const window = (this.windows.get(key.id) ?? []).filter((t) => t > now - WINDOW_MS);
      if (window.length >= key.rateLimitPerMinute) {
        this.windows.set(key.id, window);
        const retryAfter = Math.max(1, Math.ceil(((window[0] as number) + WINDOW_MS - now) / 1000));
        throw new ServepilotError(
          "RATE_LIMITED",
          `API key "${key.name}" is over its limit of ${key.rateLimitPerMinute} requests per minute`,
          { hint: `retry after ${retryAfter} s`, details: { reason: "rate", retryAfterSeconds: retryAfter } },
        );
      }
      window.push(now);
      this.windows.set(key.id, window);
    }
    const written = this.lastUsedWritten.get(key.id) ?? 0;
    if (now - written >= LAST_USED_WRITE_MS) {
      this.lastUsedWritten.set(key.id, now);
      await this.db
        .updateTable("api_keys")
        .set({ last_used_at: new Date(now).toISOString() })
        .where("id", "=", key.id)
        .execute();
    }
  }

  /** Called by the gateway as it records a request's tokens. */
  recordTokens(keyId: string, tokens: number): void {
    const used = this.used.get(keyId);
    if (used !== undefined) this.used.set(keyId, used + tokens);
  }

  private async tokensUsed(id: string): Promise<number> {
    const cached = this.used.get(id);
    if (cached !== undefined) return cached;
    const { totalTokens } = await this.usage(id);
    // requests recorded while the sum was read are counted by recordTokens from now on
    const raced = this.used.get(id);
    if (raced !== undefined) return raced;
    this.used.set(id, totalTokens);
    return totalTokens;
  }
}
