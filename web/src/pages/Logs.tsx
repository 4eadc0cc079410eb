/** The Logs page: engine log files by instance, and a live tail of one (/logs/:instance) with search. */

import { useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import { Link, useLocation, useRoute } from "wouter";
import { api } from "../api";
import { ErrorBox } from "../components/ErrorBox";
import { useEvents } from "../events";
import { formatBytes, formatDate } from "../format";
import type { Instance } from "../types";
import "./Logs.css";

interface LogFiles {
  instance: string;
  files: { file: string; sizeBytes: number; modifiedAt: string }[];
  totalBytes: number;
}

const MAX_LINES = 5000;
const LINE_CHOICES = [200, 1000, 5000];

function Highlight({ line, needle }: { line: string; needle: string }) {
  if (!needle) return <>{line}</>;
  const lower = line.toLowerCase();
  const parts: React.ReactNode[] = [];
  let from = 0;
  let at = lower.indexOf(needle, from);
  while (at >= 0) {
    parts.push(line.slice(from, at));
    parts.push(<mark key={at}>{line.slice(at, at + needle.length)}</mark>);
    from = at + needle.length;
    at = lower.indexOf(needle, from);
  }
  parts.push(line.slice(from));
  return <>{parts}</>;
}

function Tail({ name }: { name: string }) {
  const [lines, setLines] = useState<string[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState("");
  const [count, setCount] = useState(1000);
  const pending = useRef<string[] | null>([]);
  const box = useRef<HTMLPreElement>(null);
  const id = useId();

  const load = useCallback(async () => {
    pending.current = [];
    setLoaded(false);
    try {
      const result = await api<{ lines: string[] }>(
        `/api/instances/${encodeURIComponent(name)}/logs?lines=${count}`,
      );
      // lines that arrived on the stream while the tail was read: keep those not already in it
      const recent = new Set(result.lines.slice(-200));
      const extra = (pending.current ?? []).filter((line) => !recent.has(line));
      setLines([...result.lines, ...extra].slice(-MAX_LINES));
      setError(null);
    } catch (caught) {
      setLines([]);
      setError(caught);
    } finally {
      pending.current = null;
      setLoaded(true);
    }
  }, [name, count]);
  useEffect(() => {
    void load();
  }, [load]);

  useEvents(["log"], (event) => {
    const data = event.data as { instance?: string; line?: string };
    if (data?.instance !== name || typeof data.line !== "string") return;
    if (pending.current) {
      pending.current.push(data.line);
      return;
    }
    const line = data.line;
    setLines((old) => {
      const next = old.length >= MAX_LINES ? old.slice(old.length - MAX_LINES + 1) : old.slice();
      next.push(line);
      return next;
    });
  });

  const needle = search.trim().toLowerCase();
  const shown = useMemo(
    () => (needle ? lines.filter((line) => line.toLowerCase().includes(needle)) : lines),
    [lines, needle],
  );

  useLayoutEffect(() => {
    if (follow && box.current && shown.length >= 0) box.current.scrollTop = box.current.scrollHeight;
  }, [shown, follow]);

  return (
    <div className="card log-view">
      <div className="toolbar">
        <div className="field">
          <label htmlFor={`${id}-search`}>Search lines</label>
          <input
            id={`${id}-search`}
            type="search"
            value={search}
            placeholder="text in the shown lines"
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        <div className="field narrow">
          <label htmlFor={`${id}-count`}>Lines</label>
          <select id={`${id}-count`} value={count} onChange={(e) => setCount(Number(e.target.value))}>
            {LINE_CHOICES.map((choice) => (
              <option key={choice} value={choice}>
                last {choice}
              </option>
            ))}
          </select>
        </div>
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow
        </label>
        <div className="actions">
          <button type="button" onClick={() => load()}>
            Reload
          </button>
          <button type="button" onClick={() => setLines([])}>
            Clear
          </button>
        </div>
      </div>
      <ErrorBox error={error} />
      <p className="muted log-count" aria-live="polite">
        {needle ? `${shown.length} of ${lines.length} lines match` : `${lines.length} lines`}
        {follow ? " · following" : ""}
      </p>
      <pre
        ref={box}
        className="log-lines"
        role="log"
        data-testid="log-lines"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls; keyboard users need to reach it
        tabIndex={0}
        aria-label={`Log of ${name}`}
        onScroll={(event) => {
          const el = event.currentTarget;
          const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
          if (!atBottom && follow) setFollow(false);
        }}
      >
        {loaded && shown.length === 0 ? (
          <span className="muted">{needle ? "No line matches." : "No lines yet."}</span>
        ) : (
          shown.map((line, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: log lines repeat; their place is their identity
            <div key={index} className="log-line">
              <Highlight line={line} needle={needle} />
            </div>
          ))
        )}
      </pre>
    </div>
  );
}

export default function Logs() {
  const [, params] = useRoute<{ instance: string }>("/:instance");
  const [, navigate] = useLocation();
  const [files, setFiles] = useState<LogFiles[] | null>(null);
  const [instances, setInstances] = useState<Instance[]>([]);
  const [error, setError] = useState<unknown>(null);
  const selected = params?.instance ? decodeURIComponent(params.instance) : null;
  const pickId = useId();

  const load = useCallback(async () => {
    try {
      const [logs, live] = await Promise.all([
        api<{ logs: LogFiles[] }>("/api/logs"),
        api<Instance[] | { instances: Instance[] }>("/api/instances"),
      ]);
      setFiles(logs.logs);
      setInstances(Array.isArray(live) ? live : live.instances);
      setError(null);
    } catch (caught) {
      setError(caught);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  useEvents(["instance"], () => {
    void load();
  });

  const names = useMemo(() => {
    const all = new Set<string>([...instances.map((i) => i.name), ...(files ?? []).map((f) => f.instance)]);
    return [...all].sort();
  }, [instances, files]);
  const statusOf = (name: string) => instances.find((i) => i.name === name)?.status ?? null;

  return (
    <section className="logs-page">
      <div className="page-head">
        <h1>Logs</h1>
        {selected && (
          <span>
            <code>{selected}</code>{" "}
            {statusOf(selected) && <span className="badge">{statusOf(selected)}</span>}
          </span>
        )}
      </div>
      <ErrorBox error={error} />
      <div className="logs-layout">
        <nav className="card log-list" aria-label="Instance logs">
          <div className="field">
            <label htmlFor={pickId}>Instance</label>
            <select
              id={pickId}
              value={selected ?? ""}
              onChange={(e) => navigate(e.target.value ? `/${encodeURIComponent(e.target.value)}` : "/")}
            >
              <option value="">choose an instance</option>
              {names.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          {files !== null && names.length === 0 && <p className="muted">No instances or logs yet.</p>}
          <ul>
            {names.map((name) => {
              const entry = (files ?? []).find((f) => f.instance === name);
              return (
                <li key={name} data-log={name}>
                  <Link
                    href={`/${encodeURIComponent(name)}`}
                    aria-current={name === selected ? "page" : undefined}
                  >
                    {name}
                  </Link>{" "}
                  {statusOf(name) && <span className="badge">{statusOf(name)}</span>}
                  {entry && (
                    <div className="muted log-files">
                      {entry.files.map((file) => (
                        <div key={file.file}>
                          {file.file} · {formatBytes(file.sizeBytes)} · {formatDate(file.modifiedAt)}
                        </div>
                      ))}
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="log-main">
          {selected ? (
            <Tail key={selected} name={selected} />
          ) : (
            <p className="muted">Choose an instance to read its log and follow it live.</p>
          )}
        </div>
      </div>
    </section>
  );
}
