/** The Settings page: the studio's configuration, the event stream, MCP servers and the theme. */
import { useEffect, useState } from "react";
import { api, getApiKey, setApiKey } from "../api";
import { ErrorBox } from "../components/ErrorBox";
import { useEvents } from "../events";
import { useThemePreference } from "../theme";
import { McpServers } from "./settings/McpServers";
import "./Settings.css";

type Config = Record<string, unknown>;

const LABELS: Record<string, string> = {
  dataDir: "Data directory",
  host: "Host",
  port: "Port",
  configuredPort: "Configured port",
  apiKeyRequired: "API key required",
  allowCustomCommands: "Custom commands allowed",
  corsOrigins: "CORS origins",
  stopEnginesOnShutdown: "Stop engines on shutdown",
  restore: "Restore instances at start",
  rateLimitPerMinute: "Rate limit (requests/min)",
  bodyLimitBytes: "Request body limit (bytes)",
  intervalsMs: "Intervals (ms)",
  recipesDir: "Recipes directory",
  enginePortStart: "First engine port",
};

function show(value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.join(", ");
  if (typeof value === "object")
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k} ${show(v)}`)
      .join(" · ");
  return String(value);
}

function EventStreamStatus() {
  const [count, setCount] = useState(0);
  const [last, setLast] = useState<{ type: string; at: number } | null>(null);
  const [now, setNow] = useState(() => Date.now());
  useEvents([], (event) => {
    setCount((n) => n + 1);
    setLast({ type: event.type, at: Date.now() });
  });
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const age = last ? Math.max(0, Math.round((now - last.at) / 1000)) : null;
  // the studio samples the GPUs every second and heartbeats every 15 s: 30 s of silence means trouble
  const state = last === null ? "connecting" : age !== null && age > 30 ? "quiet" : "receiving";
  return (
    <section className="card" aria-labelledby="events-title">
      <h2 id="events-title">Event stream</h2>
      <p>
        <span
          className={`badge ${state === "receiving" ? "ok" : state === "quiet" ? "bad" : "busy"}`}
          data-testid="event-stream-state"
        >
          {state}
        </span>{" "}
        <span className="muted" aria-live="polite">
          {count} events on this page
          {last && `, the last a ${last.type} event ${age === 0 ? "just now" : `${age} s ago`}`}.
        </span>
      </p>
      <p className="muted">
        <code>/api/events</code> is read once per tab and shared by the pages; after a drop it reconnects with{" "}
        <code>Last-Event-ID</code>, so the missed events are replayed.
      </p>
    </section>
  );
}

function ThemeChoice() {
  // one store with the header's toggle (web/src/theme.ts): a change on either side shows on both
  const [theme, choose] = useThemePreference();
  return (
    <section className="card" aria-labelledby="theme-title">
      <h2 id="theme-title">Theme</h2>
      <fieldset className="theme-choice">
        <legend>Colours</legend>
        {(["light", "dark", "system"] as const).map((option) => (
          <label key={option} className="check">
            <input
              type="radio"
              name="theme"
              value={option}
              checked={theme === option}
              onChange={() => choose(option)}
            />
            {option === "system" ? "follow the system" : option}
          </label>
        ))}
      </fieldset>
      <p className="muted">The header's toggle switches too; the choice is kept in this browser.</p>
    </section>
  );
}

export default function Settings() {
  const [config, setConfig] = useState<Config | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [hasKey, setHasKey] = useState(() => getApiKey() !== null);
  useEffect(() => {
    api<Config>("/api/config").then(setConfig, setError);
  }, []);
  return (
    <section className="settings-page">
      <div className="page-head">
        <h1>Settings</h1>
      </div>
      <ErrorBox error={error} />
      <section className="card" aria-labelledby="config-title">
        <h2 id="config-title">Studio configuration</h2>
        <p className="muted">
          Read-only: set with <code>servepilot studio</code> flags and the environment. The API key itself is
          never shown.
        </p>
        {config && (
          <dl className="config-list" data-testid="config">
            {Object.entries(config).map(([key, value]) => (
              <div key={key} data-config={key}>
                <dt>{LABELS[key] ?? key}</dt>
                <dd>
                  <code>{show(value)}</code>
                </dd>
              </div>
            ))}
          </dl>
        )}
        {hasKey && (
          <p>
            This tab keeps an API key.{" "}
            <button
              type="button"
              onClick={() => {
                setApiKey(null);
                setHasKey(false);
              }}
            >
              Forget the key
            </button>
          </p>
        )}
      </section>
      <EventStreamStatus />
      <McpServers />
      <ThemeChoice />
    </section>
  );
}
