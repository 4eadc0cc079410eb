/**
 * Connections to MCP servers with the official SDK client: a stdio server is started for the use
 * (argv, no shell) and stopped after it (the client and its transport closed, and the child process
 * killed if it outlives that); an http server is reached over the streamable HTTP transport. Every
 * request (initialize, tools/list, tools/call) runs under the server's timeout.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ServepilotError } from "../../core/errors.js";
import type { McpServer } from "./servers.js";

export interface McpTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  inputSchema: Record<string, unknown>;
}

export interface McpToolResult {
  /** The result as text (text parts joined; other parts as JSON). */
  content: string;
  isError: boolean;
}

/** Bytes of a stdio server's stderr kept for error messages. */
const STDERR_KEEP = 4096;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/** One open connection to a server; close() it (always) once done. */
export class McpSession {
  private closed = false;
  private stderrTail = "";

  private constructor(
    readonly server: McpServer,
    private readonly client: Client,
    private readonly transport: Transport,
  ) {}

  /** Connects (for stdio: starts the program) and initialises, under the server's timeout. */
  static async open(server: McpServer, signal?: AbortSignal): Promise<McpSession> {
    // the SDK is loaded on first use: it adds about 0.4 s to the studio's start otherwise
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    let transport: Transport;
    let stdio: StdioClientTransport | null = null;
    if (server.transport === "stdio") {
      const [program, ...args] = server.command ?? [];
      if (program === undefined) {
        throw new ServepilotError("INVALID_ARGUMENT", `MCP server ${server.name} has no command`);
      }
      const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
      stdio = new StdioClientTransport({ command: program, args, env: server.env, stderr: "pipe" });
      transport = stdio;
    } else {
      const { StreamableHTTPClientTransport } = await import(
        "@modelcontextprotocol/sdk/client/streamableHttp.js"
      );
      transport = new StreamableHTTPClientTransport(new URL(server.url ?? ""));
    }
    const client = new Client({ name: "servepilot-studio", version: "1" });
    const session = new McpSession(server, client, transport);
    if (stdio !== null) {
      stdio.stderr?.on("data", (chunk: Buffer) => {
        session.stderrTail = (session.stderrTail + chunk.toString("utf8")).slice(-STDERR_KEEP);
      });
    }
    try {
      await client.connect(transport, { timeout: server.timeoutMs, ...(signal ? { signal } : {}) });
    } catch (error) {
      await session.close();
      throw session.failure("cannot connect", error);
    }
    return session;
  }

  /** The process id of a stdio server (null for http, or once closed). */
  get pid(): number | null {
    return this.server.transport === "stdio" ? (this.transport as StdioClientTransport).pid : null;
  }

  async listTools(signal?: AbortSignal): Promise<McpTool[]> {
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    try {
      do {
        const page = await this.client.listTools(cursor === undefined ? undefined : { cursor }, {
          timeout: this.server.timeoutMs,
          ...(signal ? { signal } : {}),
        });
        for (const tool of page.tools) {
          tools.push({
            name: tool.name,
            description: tool.description ?? "",
            inputSchema: tool.inputSchema as Record<string, unknown>,
          });
        }
        cursor = page.nextCursor;
      } while (cursor !== undefined && tools.length < 1000);
    } catch (error) {
      throw this.failure("cannot list tools", error);
    }
    return tools;
  }

  /** Runs a tool; a tool that fails (or times out) is a result with isError, not an exception. */
  async callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<McpToolResult> {
    try {
      const result = await this.client.callTool({ name, arguments: args }, undefined, {
        timeout: this.server.timeoutMs,
        ...(signal ? { signal } : {}),
      });
      return { content: resultText(result), isError: result.isError === true };
    } catch (error) {
      return { content: `${this.server.name}__${name} failed: ${(error as Error).message}`, isError: true };
    }
  }

  /** Closes the client and transport; a stdio server's process is gone when this returns. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pid = this.pid;
    await this.client.close().catch(() => {});
    await this.transport.close().catch(() => {});
    if (pid !== null && !(await waitGone(pid, 500))) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
      await waitGone(pid, 2000);
    }
  }

  private failure(what: string, error: unknown): ServepilotError {
    const stderr = this.stderrTail.trim().split("\n").slice(-5).join("\n");
    return new ServepilotError(
      "NETWORK_ERROR",
      `MCP server ${this.server.name}: ${what} (${(error as Error).message ?? String(error)})`,
      {
        hint:
          this.server.transport === "stdio"
            ? "check the server's command and environment; its stderr is in details"
            : "check that the URL serves MCP over streamable HTTP",
        details: { server: this.server.name, ...(stderr ? { stderr } : {}) },
        cause: error,
      },
    );
  }
}

function resultText(result: Record<string, unknown>): string {
  const content = Array.isArray(result.content) ? result.content : [];
  const parts = content.map((part: unknown) => {
    const p = part as { type?: string; text?: unknown };
    return p.type === "text" && typeof p.text === "string" ? p.text : JSON.stringify(part);
  });
  if (parts.length === 0 && result.structuredContent !== undefined) {
    return JSON.stringify(result.structuredContent);
  }
  if (parts.length === 0 && "toolResult" in result) return JSON.stringify(result.toolResult);
  return parts.join("\n");
}

/** Opens a session, runs `use`, and closes it whatever happens. */
export async function withMcpSession<T>(
  server: McpServer,
  use: (session: McpSession) => Promise<T>,
): Promise<T> {
  const session = await McpSession.open(server);
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}
