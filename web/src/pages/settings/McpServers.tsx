/** MCP servers: list, register (stdio argv or streamable HTTP URL, with the approval setting), tools, delete. */

import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { api } from "../../api";
import { ErrorBox } from "../../components/ErrorBox";
import { formatDate } from "../../format";
import { ConfirmButton, type FieldError, FieldsError } from "../recipes/ui";

interface McpServer {
  id: string;
  name: string;
  transport: "stdio" | "http";
  command: string[] | null;
  url: string | null;
  env: Record<string, string>;
  approval: "always" | "never";
  timeoutMs: number;
  enabled: boolean;
  createdAt: string;
}

interface McpTool {
  name: string;
  qualifiedName: string;
  description?: string;
}

/** Splits an argv line on spaces, keeping "quoted parts" together (no shell is involved). */
export function splitArgv(text: string): string[] {
  const out: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const match of text.matchAll(pattern)) out.push(match[1] ?? match[2] ?? match[3] ?? "");
  return out;
}

function Tools({ server }: { server: McpServer }) {
  const [tools, setTools] = useState<McpTool[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const list = async () => {
    setBusy(true);
    setError(null);
    try {
      setTools((await api<{ tools: McpTool[] }>(`/api/mcp/servers/${server.id}/tools`)).tools);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="mcp-tools">
      <button type="button" onClick={list} disabled={busy} aria-label={`List tools of ${server.name}`}>
        {busy ? "Connecting…" : "List tools"}
      </button>
      <ErrorBox error={error} />
      {tools && (
        <ul aria-label={`Tools of ${server.name}`} data-testid="mcp-tools">
          {tools.length === 0 && <li className="muted">No tools.</li>}
          {tools.map((tool) => (
            <li key={tool.name}>
              <code>{tool.qualifiedName}</code>
              {tool.description && <span className="muted"> — {tool.description}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function McpServers() {
  const [servers, setServers] = useState<McpServer[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [fields, setFields] = useState<FieldError[]>([]);
  const [name, setName] = useState("");
  const [transport, setTransport] = useState<"stdio" | "http">("stdio");
  const [command, setCommand] = useState("");
  const [url, setUrl] = useState("");
  const [env, setEnv] = useState("");
  const [approval, setApproval] = useState<"always" | "never">("always");
  const [timeoutMs, setTimeoutMs] = useState("30000");
  const id = useId();

  const load = useCallback(async () => {
    try {
      setServers((await api<{ servers: McpServer[] }>("/api/mcp/servers")).servers);
    } catch (caught) {
      setError(caught);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const register = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setFields([]);
    const body: Record<string, unknown> = { name: name.trim(), transport, approval };
    if (transport === "stdio") {
      body.command = splitArgv(command);
      const vars: Record<string, string> = {};
      for (const line of env.split("\n")) {
        const eq = line.indexOf("=");
        if (line.trim() === "") continue;
        vars[(eq < 0 ? line : line.slice(0, eq)).trim()] = eq < 0 ? "" : line.slice(eq + 1);
      }
      body.env = vars;
    } else body.url = url.trim();
    if (timeoutMs.trim() !== "") body.timeoutMs = Number(timeoutMs);
    try {
      await api("/api/mcp/servers", { body });
      setName("");
      setCommand("");
      setUrl("");
      setEnv("");
      await load();
    } catch (caught) {
      if (caught instanceof FieldsError) setFields(caught.fields);
      setError(caught);
    }
  };

  const patch = async (server: McpServer, change: Partial<McpServer>) => {
    setError(null);
    try {
      await api(`/api/mcp/servers/${server.id}`, { method: "PATCH", body: change });
      await load();
    } catch (caught) {
      setError(caught);
    }
  };

  const remove = async (server: McpServer) => {
    setError(null);
    try {
      await api(`/api/mcp/servers/${server.id}`, { method: "DELETE" });
      await load();
    } catch (caught) {
      setError(caught);
    }
  };

  const fieldError = (key: string) => {
    const messages = fields.filter((f) => f.field === key || f.field.startsWith(`${key}.`));
    if (messages.length === 0) return null;
    return (
      <span id={`${id}-${key}-error`} className="field-error">
        {messages.map((m) => m.message).join("; ")}
      </span>
    );
  };
  const invalid = (key: string) => fields.some((f) => f.field === key || f.field.startsWith(`${key}.`));

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>MCP servers</h2>
      <p className="muted">Tools offered to chats. A stdio server is a program the studio runs (no shell).</p>
      <ErrorBox error={error} />
      {servers && servers.length === 0 && <p className="muted">No MCP servers registered.</p>}
      {servers && servers.length > 0 && (
        <ul className="mcp-list">
          {servers.map((server) => (
            <li key={server.id} className="mcp-server" data-mcp={server.name}>
              <div className="mcp-head">
                <strong>{server.name}</strong>
                <span className="badge">{server.transport}</span>
                {!server.enabled && <span className="badge bad">disabled</span>}
                <span className="muted">approval: {server.approval}</span>
              </div>
              <div className="muted mcp-target">
                <code>{server.transport === "stdio" ? (server.command ?? []).join(" ") : server.url}</code>
                {Object.keys(server.env).length > 0 && <> · env: {Object.keys(server.env).join(", ")}</>} ·
                timeout {server.timeoutMs} ms · added {formatDate(server.createdAt)}
              </div>
              <div className="actions">
                <Tools server={server} />
                <label className="check">
                  <input
                    type="checkbox"
                    checked={server.approval === "always"}
                    onChange={(e) => patch(server, { approval: e.target.checked ? "always" : "never" })}
                  />
                  Ask before each call
                </label>
                <label className="check">
                  <input
                    type="checkbox"
                    checked={server.enabled}
                    onChange={(e) => patch(server, { enabled: e.target.checked })}
                  />
                  Enabled
                </label>
                <ConfirmButton
                  label={`Delete ${server.name}`}
                  question={`Remove ${server.name}?`}
                  confirmLabel="Remove"
                  onConfirm={() => remove(server)}
                />
              </div>
            </li>
          ))}
        </ul>
      )}
      <h3>Register a server</h3>
      <form className="form-grid" onSubmit={register} aria-label="Register an MCP server" noValidate>
        <div className="field">
          <label htmlFor={`${id}-name`}>Server name</label>
          <input
            id={`${id}-name`}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="calc"
            required
            aria-invalid={invalid("name")}
            aria-describedby={invalid("name") ? `${id}-name-error` : undefined}
          />
          {fieldError("name")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-transport`}>Transport</label>
          <select
            id={`${id}-transport`}
            value={transport}
            onChange={(e) => setTransport(e.target.value as "stdio" | "http")}
          >
            <option value="stdio">stdio (a program)</option>
            <option value="http">http (a URL)</option>
          </select>
        </div>
        {transport === "stdio" ? (
          <div className="field wide">
            <label htmlFor={`${id}-command`}>Command</label>
            <input
              id={`${id}-command`}
              value={command}
              onChange={(e) => setCommand(e.target.value)}
              placeholder="node /path/to/server.mjs"
              aria-invalid={invalid("command")}
              aria-describedby={invalid("command") ? `${id}-command-error` : undefined}
            />
            {fieldError("command")}
          </div>
        ) : (
          <div className="field wide">
            <label htmlFor={`${id}-url`}>URL</label>
            <input
              id={`${id}-url`}
              type="url"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="https://example.com/mcp"
              aria-invalid={invalid("url")}
              aria-describedby={invalid("url") ? `${id}-url-error` : undefined}
            />
            {fieldError("url")}
          </div>
        )}
        {transport === "stdio" && (
          <div className="field">
            <label htmlFor={`${id}-env`}>Environment</label>
            <textarea
              id={`${id}-env`}
              rows={2}
              value={env}
              onChange={(e) => setEnv(e.target.value)}
              placeholder="NAME=value per line"
            />
            {fieldError("env")}
          </div>
        )}
        <div className="field">
          <label htmlFor={`${id}-approval`}>Tool calls</label>
          <select
            id={`${id}-approval`}
            value={approval}
            onChange={(e) => setApproval(e.target.value as "always" | "never")}
          >
            <option value="always">ask for approval every time</option>
            <option value="never">run without asking</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-timeout`}>Timeout (ms)</label>
          <input
            id={`${id}-timeout`}
            inputMode="numeric"
            value={timeoutMs}
            onChange={(e) => setTimeoutMs(e.target.value)}
            aria-invalid={invalid("timeoutMs")}
          />
          {fieldError("timeoutMs")}
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={name.trim() === ""}>
            Register server
          </button>
        </div>
      </form>
    </section>
  );
}
