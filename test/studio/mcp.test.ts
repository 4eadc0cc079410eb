/**
 * /api/mcp over real HTTP against a real studio: registering servers (stdio argv, http URL), field
 * errors, the environment policy (loader variables refused unless allowCustomCommands), listing the
 * tools of a stdio server written with the SDK (its process gone after use), and of a streamable HTTP
 * server started in the test with the SDK's server transport.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { McpSession } from "../../src/studio/mcp/client.js";
import { startTestStudio, type TestStudio } from "./studio-harness.js";

const CALC_SERVER = join(import.meta.dirname, "..", "fixtures", "mcp", "calc-server.mjs");

const open: TestStudio[] = [];
const servers: Server[] = [];
async function studio(options: Parameters<typeof startTestStudio>[0] = {}) {
  const s = await startTestStudio(options);
  open.push(s);
  return s;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function fieldsOf(body: { error: { details: { fields: Array<{ field: string }> } } }): string[] {
  return body.error.details.fields.map((f) => f.field);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A streamable HTTP MCP server (stateless: one McpServer per request) with a tool "echo". */
async function startHttpMcpServer(): Promise<string> {
  const http = createServer(async (req, res) => {
    const mcp = new McpServer({ name: "echo", version: "1.0.0" });
    mcp.registerTool(
      "echo",
      { description: "Echo the text back", inputSchema: { text: z.string() } },
      async ({ text }) => ({ content: [{ type: "text", text: `echo: ${text}` }] }),
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
  servers.push(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
}

describe("studio MCP servers", () => {
  it("registers a stdio server, lists its tools over HTTP, and its process is gone after use", async () => {
    const s = await studio();
    const pidFile = join(mkdtempSync(join(tmpdir(), "sp-mcp-")), "calc.pid");
    const created = await s.api("/api/mcp/servers", {
      body: {
        name: "calc",
        transport: "stdio",
        command: [process.execPath, CALC_SERVER],
        env: { CALC_PID_FILE: pidFile },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "calc",
      transport: "stdio",
      command: [process.execPath, CALC_SERVER],
      url: null,
      approval: "always",
      timeoutMs: 30_000,
      enabled: true,
      env: { CALC_PID_FILE: "<set>" },
    });
    const id = created.body.id as string;

    const tools = await s.api(`/api/mcp/servers/${id}/tools`);
    expect(tools.status).toBe(200);
    expect(tools.body.server).toEqual({ id, name: "calc" });
    expect(tools.body.tools).toHaveLength(1);
    expect(tools.body.tools[0]).toMatchObject({
      name: "add",
      qualifiedName: "calc__add",
      description: "Add two numbers",
      inputSchema: { type: "object", required: ["a", "b"] },
    });
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    expect(isAlive(pid)).toBe(false);

    const list = await s.api("/api/mcp/servers");
    expect(list.body.servers.map((x: { name: string }) => x.name)).toEqual(["calc"]);
    expect((await s.api(`/api/mcp/servers/${id}`)).body.name).toBe("calc");

    const patched = await s.api(`/api/mcp/servers/${id}`, {
      method: "PATCH",
      body: { approval: "never", timeoutMs: 5000, enabled: false },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ approval: "never", timeoutMs: 5000, enabled: false });

    expect((await s.api(`/api/mcp/servers/${id}`, { method: "DELETE" })).status).toBe(200);
    expect((await s.api(`/api/mcp/servers/${id}`)).status).toBe(404);
    expect((await s.api(`/api/mcp/servers/${id}/tools`)).status).toBe(404);
  });

  it("calls a stdio tool through a session, under the server's timeout, and stops the process", async () => {
    const session = await McpSession.open({
      id: "x",
      name: "calc",
      transport: "stdio",
      command: [process.execPath, CALC_SERVER],
      url: null,
      env: {},
      approval: "never",
      timeoutMs: 10_000,
      enabled: true,
      createdAt: new Date().toISOString(),
    });
    const pid = session.pid as number;
    expect(isAlive(pid)).toBe(true);
    expect(await session.callTool("add", { a: 2, b: 40 })).toEqual({ content: "42", isError: false });
    const bad = await session.callTool("nope", {});
    expect(bad.isError).toBe(true);
    await session.close();
    expect(isAlive(pid)).toBe(false);
  });

  it("lists the tools of a streamable HTTP server", async () => {
    const s = await studio();
    const url = await startHttpMcpServer();
    const created = await s.api("/api/mcp/servers", {
      body: { name: "echo", transport: "http", url, approval: "never" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ transport: "http", url, command: null, approval: "never" });
    const tools = await s.api(`/api/mcp/servers/${created.body.id}/tools`);
    expect(tools.status).toBe(200);
    expect(tools.body.tools.map((t: { qualifiedName: string }) => t.qualifiedName)).toEqual(["echo__echo"]);
  });

  it("refuses loader environment unless the studio allows custom commands", async () => {
    const s = await studio();
    const refused = await s.api("/api/mcp/servers", {
      body: {
        name: "calc",
        transport: "stdio",
        command: [process.execPath, CALC_SERVER],
        env: { LD_PRELOAD: "/tmp/evil.so", PYTHONPATH: "/tmp", FOO: "bar" },
      },
    });
    expect(refused.status).toBe(400);
    expect(fieldsOf(refused.body)).toEqual(["body.env.LD_PRELOAD", "body.env.PYTHONPATH"]);
    expect((await s.api("/api/mcp/servers")).body.servers).toEqual([]);

    const ok = await s.api("/api/mcp/servers", {
      body: {
        name: "calc",
        transport: "stdio",
        command: [process.execPath, CALC_SERVER],
        env: { FOO: "bar" },
      },
    });
    expect(ok.status).toBe(201);
    const patch = await s.api(`/api/mcp/servers/${ok.body.id}`, {
      method: "PATCH",
      body: { env: { LD_LIBRARY_PATH: "/tmp" } },
    });
    expect(patch.status).toBe(400);
    expect(fieldsOf(patch.body)).toEqual(["body.env.LD_LIBRARY_PATH"]);

    const allowing = await studio({ allowCustomCommands: true });
    const allowed = await allowing.api("/api/mcp/servers", {
      body: {
        name: "calc",
        transport: "stdio",
        command: ["node", CALC_SERVER],
        env: { LD_LIBRARY_PATH: "/tmp" },
      },
    });
    expect(allowed.status).toBe(201);
  });

  it("names the fields at fault", async () => {
    const s = await studio();
    const cases: Array<[unknown, string[]]> = [
      [{ name: "x", transport: "stdio" }, ["body.command"]],
      [{ name: "x", transport: "http" }, ["body.url"]],
      [{ name: "x", transport: "http", url: "file:///etc/passwd" }, ["body.url"]],
      [{ name: "a__b", transport: "stdio", command: ["x"] }, ["body.name"]],
      [{ name: "x", transport: "stdio", command: [] }, ["body.command"]],
      [{ name: "x", transport: "stdio", command: ["x"], timeoutMs: 300_001 }, ["body.timeoutMs"]],
      [{ name: "x", transport: "stdio", command: ["x"], approval: "sometimes" }, ["body.approval"]],
      [{ name: "x", transport: "stdio", command: "node server.js" }, ["body.command"]],
      [{ name: "x", transport: "ftp", command: ["x"] }, ["body.transport"]],
      [{ name: "x", transport: "stdio", command: ["x"], shell: true }, ["body"]],
    ];
    for (const [body, fields] of cases) {
      const answer = await s.api("/api/mcp/servers", { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      for (const field of fields)
        expect(fieldsOf(answer.body).join(" "), JSON.stringify(body)).toContain(field);
    }
    await s.api("/api/mcp/servers", { body: { name: "dup", transport: "stdio", command: ["x"] } });
    const dup = await s.api("/api/mcp/servers", {
      body: { name: "dup", transport: "stdio", command: ["x"] },
    });
    expect(dup.status).toBe(409);
    expect((await s.api(`/api/mcp/servers/${randomUUID()}`)).status).toBe(404);
  });

  it("reports a server that cannot start, with its stderr", async () => {
    const s = await studio();
    const created = await s.api("/api/mcp/servers", {
      body: {
        name: "broken",
        transport: "stdio",
        command: [process.execPath, "-e", "console.error('boom: no config'); process.exit(3)"],
        timeoutMs: 5000,
      },
    });
    const tools = await s.api(`/api/mcp/servers/${created.body.id}/tools`);
    expect(tools.status).toBe(502);
    expect(tools.body.error.code).toBe("NETWORK_ERROR");
    expect(tools.body.error.message).toContain("broken");
  });
});
