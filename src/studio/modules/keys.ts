/**
 * Gateway API keys over HTTP (admin only: a gateway key never reaches /api): create (the secret is in
 * that one answer and nowhere else), list, show, change limits, revoke, and per-key usage.
 */
import { z } from "zod";
import type { StudioModule } from "../context.js";
import { KeyStore } from "../keys/store.js";

const KeyName = z.string().trim().min(1).max(100).describe("A label for the key (who or what uses it).");
const RateLimit = z
  .number()
  .int()
  .min(1)
  .max(1_000_000)
  .nullable()
  .describe("Requests per minute this key may make (null: no limit).");
const TokenQuota = z
  .number()
  .int()
  .min(1)
  .nullable()
  .describe("Prompt + completion tokens this key may use in all (null: no quota).");

const CreateBody = z
  .object({ name: KeyName, rateLimitPerMinute: RateLimit.optional(), tokenQuota: TokenQuota.optional() })
  .strict();
const UpdateBody = z
  .object({
    name: KeyName.optional(),
    rateLimitPerMinute: RateLimit.optional(),
    tokenQuota: TokenQuota.optional(),
  })
  .strict();
const IdParams = z.object({ id: z.string().uuid("a key id (UUID)") }).strict();

const KeyView = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe("The first characters of the secret, to recognise it."),
  scope: z.literal("gateway"),
  rateLimitPerMinute: z.number().nullable(),
  tokenQuota: z.number().nullable(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});

export const keysModule: StudioModule = {
  name: "keys",
  routes(app, ctx) {
    const store = new KeyStore(ctx.db);
    ctx.services.keys = store;
    const tags = ["keys"];

    app.post(
      "/api/keys",
      {
        schema: {
          tags,
          summary: "Create a gateway API key (the secret is shown in this answer only)",
          body: CreateBody,
          response: { 201: KeyView.extend({ key: z.string().describe("The secret: store it now.") }) },
        },
      },
      async (request, reply) => reply.code(201).send(await store.create(request.body)),
    );
    app.get(
      "/api/keys",
      {
        schema: { tags, summary: "List API keys (never their secrets)", response: { 200: z.array(KeyView) } },
      },
      async () => store.list(),
    );
    app.get(
      "/api/keys/:id",
      { schema: { tags, summary: "One API key", params: IdParams, response: { 200: KeyView } } },
      async (request) => store.get(request.params.id),
    );
    app.patch(
      "/api/keys/:id",
      {
        schema: {
          tags,
          summary: "Rename a key or change its limits",
          params: IdParams,
          body: UpdateBody,
          response: { 200: KeyView },
        },
      },
      async (request) => store.update(request.params.id, request.body),
    );
    app.delete(
      "/api/keys/:id",
      {
        schema: {
          tags,
          summary: "Revoke a key (refused from now on; its request log stays)",
          params: IdParams,
          response: { 200: KeyView },
        },
      },
      async (request) => store.revoke(request.params.id),
    );
    app.get(
      "/api/keys/:id/usage",
      {
        schema: {
          tags,
          summary: "Requests and tokens recorded for a key",
          params: IdParams,
          response: {
            200: z.object({
              requests: z.number(),
              succeeded: z.number(),
              promptTokens: z.number(),
              completionTokens: z.number(),
              totalTokens: z.number(),
            }),
          },
        },
      },
      async (request) => store.usage(request.params.id),
    );
  },
};
