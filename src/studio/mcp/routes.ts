/**
 * /api/mcp/servers: register, list, change and remove MCP servers, and list a server's tools (the
 * studio connects, lists and closes; a stdio server runs only for that).
 */
import { z } from "zod";
import type { StudioApp, StudioContext } from "../context.js";
import { withMcpSession } from "./client.js";
import {
  CreateMcpServerBody,
  createServer,
  deleteServer,
  getServer,
  listServers,
  McpServerView,
  serverView,
  UpdateMcpServerBody,
  updateServer,
} from "./servers.js";

const tags = ["mcp"];
const IdParams = z.object({ id: z.string().min(1).max(100).describe("MCP server id") }).strict();

export function registerMcpRoutes(app: StudioApp, ctx: StudioContext): void {
  app.get(
    "/api/mcp/servers",
    {
      schema: {
        tags,
        summary: "Registered MCP servers (environment values are never shown).",
        response: { 200: z.object({ servers: z.array(McpServerView) }) },
      },
    },
    async () => ({ servers: (await listServers(ctx.db)).map(serverView) }),
  );

  app.post(
    "/api/mcp/servers",
    {
      schema: {
        tags,
        summary: "Register an MCP server (stdio: an argv run without a shell; http: a streamable HTTP URL).",
        description:
          "Environment variables that change which code runs (LD_PRELOAD, LD_LIBRARY_PATH, PYTHONPATH, NODE_OPTIONS, PATH …) are refused unless the studio runs with allowCustomCommands.",
        body: CreateMcpServerBody,
        response: { 201: McpServerView },
      },
    },
    async (request, reply) => {
      const server = await createServer(ctx, request.body);
      ctx.events.publish("chat", { kind: "mcp-server", action: "created", id: server.id, name: server.name });
      return reply.status(201).send(serverView(server));
    },
  );

  app.get(
    "/api/mcp/servers/:id",
    { schema: { tags, summary: "One MCP server.", params: IdParams, response: { 200: McpServerView } } },
    async (request) => serverView(await getServer(ctx.db, request.params.id)),
  );

  app.patch(
    "/api/mcp/servers/:id",
    {
      schema: {
        tags,
        summary: "Change an MCP server (the fields given; env replaces the whole environment).",
        params: IdParams,
        body: UpdateMcpServerBody,
        response: { 200: McpServerView },
      },
    },
    async (request) => {
      const server = await updateServer(ctx, request.params.id, request.body);
      ctx.events.publish("chat", { kind: "mcp-server", action: "updated", id: server.id, name: server.name });
      return serverView(server);
    },
  );

  app.delete(
    "/api/mcp/servers/:id",
    { schema: { tags, summary: "Remove an MCP server.", params: IdParams } },
    async (request) => {
      await deleteServer(ctx.db, request.params.id);
      ctx.events.publish("chat", { kind: "mcp-server", action: "deleted", id: request.params.id });
      return { id: request.params.id, deleted: true };
    },
  );

  app.get(
    "/api/mcp/servers/:id/tools",
    {
      schema: {
        tags,
        summary: "Connect to the server, list its tools, and close (a stdio server runs only for this).",
        params: IdParams,
      },
    },
    async (request) => {
      const server = await getServer(ctx.db, request.params.id);
      const tools = await withMcpSession(server, (session) => session.listTools());
      return {
        server: { id: server.id, name: server.name },
        tools: tools.map((tool) => ({ ...tool, qualifiedName: `${server.name}__${tool.name}` })),
      };
    },
  );
}
