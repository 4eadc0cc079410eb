/**
 * Registered MCP servers (`mcp_servers`): the request bodies, the stored rows and their API view.
 *
 * A stdio server is a program the studio runs, so registering one is running code of the caller's
 * choosing with the studio's rights: its argv is never run through a shell, and environment variables
 * that change which code runs (LD_PRELOAD, LD_LIBRARY_PATH, PYTHONPATH, NODE_OPTIONS, PATH …, the
 * recipes' list) are refused unless the studio runs with allowCustomCommands.
 */
import { randomUUID } from "node:crypto";
import type { Kysely, Selectable } from "kysely";
import { z } from "zod";
import { ServepilotError } from "../../core/errors.js";
import type { StudioContext } from "../context.js";
import type { McpServersTable, StudioDatabase } from "../db/schema.js";
import { type FieldError, invalidFields } from "../recipes/field-errors.js";
import { isCodeLoadingEnv } from "../recipes/schema.js";

export const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_TIMEOUT_MS = 300_000;
export const MIN_TIMEOUT_MS = 100;

/** Server names prefix tool names (`server__tool`), which OpenAI limits to [A-Za-z0-9_-]{1,64}. */
const SERVER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]|_(?!_))*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface McpServer {
  id: string;
  name: string;
  transport: "stdio" | "http";
  /** argv: program first, never run through a shell (stdio). */
  command: string[] | null;
  url: string | null;
  env: Record<string, string>;
  approval: "always" | "never";
  timeoutMs: number;
  enabled: boolean;
  createdAt: string;
}

const fields = {
  name: z
    .string()
    .min(1)
    .max(32)
    .regex(SERVER_NAME, "letters, digits, - and single _ (tools are named <server>__<tool>)")
    .describe("unique name; prefixes its tools in chats (<name>__<tool>)"),
  transport: z
    .enum(["stdio", "http"])
    .describe("stdio: a program the studio runs; http: a streamable HTTP URL"),
  command: z
    .array(z.string().min(1, "an empty argument").max(4096))
    .min(1, "the program to run")
    .max(256)
    .nullable()
    .describe("stdio: argv, program first (never run through a shell)"),
  url: z
    .string()
    .max(2048)
    .regex(/^https?:\/\/\S+$/i, "an http:// or https:// URL")
    .nullable()
    .describe("http: the server's streamable HTTP endpoint"),
  env: z
    .record(z.string().regex(ENV_NAME, "an environment variable name").max(128), z.string().max(8192))
    .describe("stdio: extra environment; loader variables (LD_PRELOAD …) need allowCustomCommands"),
  approval: z.enum(["always", "never"]).describe("always: every tool call waits for the user's approval"),
  timeoutMs: z
    .number()
    .int()
    .min(MIN_TIMEOUT_MS)
    .max(MAX_TIMEOUT_MS)
    .describe(
      `every call's time limit, and how long an approval is awaited (ms, default ${DEFAULT_TIMEOUT_MS})`,
    ),
  enabled: z.boolean().describe("offered to chats"),
};

export const CreateMcpServerBody = z
  .object({
    name: fields.name,
    transport: fields.transport,
    command: fields.command.optional(),
    url: fields.url.optional(),
    env: fields.env.default({}),
    approval: fields.approval.default("always"),
    timeoutMs: fields.timeoutMs.default(DEFAULT_TIMEOUT_MS),
    enabled: fields.enabled.default(true),
  })
  .strict();

export const UpdateMcpServerBody = z
  .object({
    name: fields.name.optional(),
    transport: fields.transport.optional(),
    command: fields.command.optional(),
    url: fields.url.optional(),
    env: fields.env.optional(),
    approval: fields.approval.optional(),
    timeoutMs: fields.timeoutMs.optional(),
    enabled: fields.enabled.optional(),
  })
  .strict();

export const McpServerView = z.object({
  id: z.string(),
  name: z.string(),
  transport: z.enum(["stdio", "http"]),
  command: z.array(z.string()).nullable(),
  url: z.string().nullable(),
  env: z.record(z.string(), z.string()).describe('names only: values are never shown ("<set>")'),
  approval: z.enum(["always", "never"]),
  timeoutMs: z.number(),
  enabled: z.boolean(),
  createdAt: z.string(),
});

/** The API view: environment values may be tokens, so only their names are shown. */
export function serverView(server: McpServer): z.infer<typeof McpServerView> {
  return {
    ...server,
    env: Object.fromEntries(Object.keys(server.env).map((name) => [name, "<set>"])),
  };
}

type Draft = Omit<McpServer, "id" | "createdAt">;

/** What a body alone cannot check: the transport's own fields, and the environment policy. */
export function checkServer(draft: Draft, ctx: StudioContext): void {
  const errors: FieldError[] = [];
  if (draft.transport === "stdio") {
    if (draft.command === null || draft.command.length === 0) {
      errors.push({ field: "command", message: "a stdio server needs its argv (program first)" });
    }
    if (draft.url !== null) errors.push({ field: "url", message: "only for http servers" });
  } else {
    if (draft.url === null) errors.push({ field: "url", message: "an http server needs its URL" });
    if (draft.command !== null) errors.push({ field: "command", message: "only for stdio servers" });
    if (Object.keys(draft.env).length > 0) errors.push({ field: "env", message: "only for stdio servers" });
  }
  if (!ctx.options.allowCustomCommands) {
    for (const name of Object.keys(draft.env)) {
      if (isCodeLoadingEnv(name)) {
        errors.push({
          field: `env.${name}`,
          message: `${name} changes which code the server runs and is refused: start the studio with allowCustomCommands to allow it`,
        });
      }
    }
  }
  if (errors.length > 0) throw invalidFields(errors);
}

function fromRow(row: Selectable<McpServersTable>): McpServer {
  return {
    id: row.id,
    name: row.name,
    transport: row.transport,
    command: row.command === null ? null : (JSON.parse(row.command) as string[]),
    url: row.url,
    env: JSON.parse(row.env) as Record<string, string>,
    approval: row.approval === "never" ? "never" : "always",
    timeoutMs: row.timeout_ms,
    enabled: row.enabled === 1,
    createdAt: row.created_at,
  };
}

function toRow(draft: Draft) {
  return {
    name: draft.name,
    transport: draft.transport,
    command: draft.command === null ? null : JSON.stringify(draft.command),
    url: draft.url,
    env: JSON.stringify(draft.env),
    approval: draft.approval,
    timeout_ms: draft.timeoutMs,
    enabled: draft.enabled ? 1 : 0,
  };
}

export async function listServers(db: Kysely<StudioDatabase>): Promise<McpServer[]> {
  const rows = await db.selectFrom("mcp_servers").selectAll().orderBy("created_at").orderBy("name").execute();
  return rows.map(fromRow);
}

export async function listEnabledServers(db: Kysely<StudioDatabase>): Promise<McpServer[]> {
  return (await listServers(db)).filter((s) => s.enabled);
}

export async function getServer(db: Kysely<StudioDatabase>, id: string): Promise<McpServer> {
  const row = await db.selectFrom("mcp_servers").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) {
    throw new ServepilotError("NOT_FOUND", `no MCP server ${id}`, {
      hint: "GET /api/mcp/servers lists them",
      details: { id },
    });
  }
  return fromRow(row);
}

async function assertNameFree(db: Kysely<StudioDatabase>, name: string, except: string | null) {
  const taken = await db.selectFrom("mcp_servers").select("id").where("name", "=", name).executeTakeFirst();
  if (taken && taken.id !== except) {
    throw new ServepilotError("CONFLICT", `an MCP server is already named ${name}`, {
      details: { field: "body.name", id: taken.id },
    });
  }
}

export async function createServer(
  ctx: StudioContext,
  body: z.infer<typeof CreateMcpServerBody>,
): Promise<McpServer> {
  const draft: Draft = {
    name: body.name,
    transport: body.transport,
    command: body.command ?? null,
    url: body.url ?? null,
    env: body.env,
    approval: body.approval,
    timeoutMs: body.timeoutMs,
    enabled: body.enabled,
  };
  checkServer(draft, ctx);
  const id = randomUUID();
  const createdAt = new Date().toISOString();
  await ctx.db.transaction().execute(async (trx) => {
    await assertNameFree(trx, draft.name, null);
    await trx
      .insertInto("mcp_servers")
      .values({ id, ...toRow(draft), created_at: createdAt })
      .execute();
  });
  return { id, createdAt, ...draft };
}

export async function updateServer(
  ctx: StudioContext,
  id: string,
  body: z.infer<typeof UpdateMcpServerBody>,
): Promise<McpServer> {
  return ctx.db.transaction().execute(async (trx) => {
    const current = await getServer(trx, id);
    const draft: Draft = {
      name: body.name ?? current.name,
      transport: body.transport ?? current.transport,
      command: body.command === undefined ? current.command : body.command,
      url: body.url === undefined ? current.url : body.url,
      env: body.env ?? current.env,
      approval: body.approval ?? current.approval,
      timeoutMs: body.timeoutMs ?? current.timeoutMs,
      enabled: body.enabled ?? current.enabled,
    };
    checkServer(draft, ctx);
    if (draft.name !== current.name) await assertNameFree(trx, draft.name, id);
    await trx.updateTable("mcp_servers").set(toRow(draft)).where("id", "=", id).execute();
    return { id, createdAt: current.createdAt, ...draft };
  });
}

export async function deleteServer(db: Kysely<StudioDatabase>, id: string): Promise<void> {
  const result = await db.deleteFrom("mcp_servers").where("id", "=", id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) {
    throw new ServepilotError("NOT_FOUND", `no MCP server ${id}`, { details: { id } });
  }
}
