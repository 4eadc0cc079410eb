/**
 * The planner's figures against the engine's, per instance (`GET /api/instances/{name}/plan-vs-actual`,
 * the latest launch's rows), refetched when an instance's state or ready time changes.
 */
import { useEffect, useRef, useState } from "react";
import { api, errorText } from "../../api";
import type { Instance } from "../../types";

/** A difference beyond this (either way, in percent) is highlighted. */
export const DIFFERENCE_THRESHOLD = 10;

export interface PlanVsActualRow {
  model: string;
  engine: string;
  metric: string;
  planned: number;
  actual: number;
  /** (actual - planned) / actual x 100, as the studio records it. */
  errorPercent: number;
  recordedAt: string;
}

/** The instance list's fields this section reads beyond the shared Instance type. */
export type PlannedInstance = Instance & {
  planned?: Record<string, number | null> | null;
  readyAt?: string | null;
};

const LABELS: Record<string, string> = {
  weightsGiB: "Weights (per GPU)",
  kvCacheGiB: "KV cache (per GPU)",
  kvCacheTokens: "KV cache tokens",
  maxConcurrency: "Max concurrency",
};

export function figureLabel(metric: string): string {
  return LABELS[metric] ?? metric;
}

/** GiB figures with two decimals, counts with thousands separators, other fractions with two. */
export function formatFigure(metric: string, value: number): string {
  if (/GiB$/.test(metric)) return `${value.toFixed(2)} GiB`;
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return value.toFixed(2);
}

export function formatDifference(percent: number): string {
  const sign = percent > 0 ? "+" : percent < 0 ? "−" : "";
  return `${sign}${Math.abs(percent).toFixed(1)}%`;
}

/** The rows of the newest launch (the API lists every launch's rows, newest first). */
export function latestRows(rows: PlanVsActualRow[]): PlanVsActualRow[] {
  const newest = rows[0]?.recordedAt;
  return newest === undefined ? [] : rows.filter((row) => row.recordedAt === newest);
}

interface Loaded {
  key: string;
  rows: PlanVsActualRow[] | null;
  error: unknown;
}

function stateKey(instance: PlannedInstance): string {
  return `${instance.status}|${instance.readyAt ?? ""}`;
}

function emptyText(instance: PlannedInstance): string {
  if (instance.planned === null)
    return "No plan recorded: this instance was launched without a planner estimate (a local path, a GGUF file or the embedded engine), so there is nothing to compare.";
  if (instance.status === "starting")
    return "Waiting for the engine's startup figures: they are recorded once it is ready.";
  return "No plan recorded: the engine's log gave no figure the plan has.";
}

function Comparison({ instance, loaded }: { instance: PlannedInstance; loaded: Loaded | undefined }) {
  if (!loaded || (loaded.rows === null && loaded.error === null)) return <p className="muted">Loading…</p>;
  if (loaded.rows === null)
    return <p className="error-text">Plan vs actual unavailable: {errorText(loaded.error)}</p>;
  const rows = latestRows(loaded.rows);
  if (rows.length === 0)
    return (
      <p className="muted" data-testid="pva-empty">
        {emptyText(instance)}
      </p>
    );
  const first = rows[0] as PlanVsActualRow;
  return (
    <>
      <div className="pva-wrap">
        <table className="pva-table" data-testid="pva-table">
          <caption className="visually-hidden">Plan vs actual for {instance.name}</caption>
          <thead>
            <tr>
              <th scope="col">Figure</th>
              <th scope="col">Planned</th>
              <th scope="col">Actual</th>
              <th scope="col">
                <span className="pva-long">Difference</span>
                <span className="pva-short" aria-hidden="true">
                  Diff.
                </span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const over = Math.abs(row.errorPercent) > DIFFERENCE_THRESHOLD;
              return (
                <tr key={row.metric} data-metric={row.metric} className={over ? "pva-over" : undefined}>
                  <th scope="row">{figureLabel(row.metric)}</th>
                  <td data-testid="pva-planned">{formatFigure(row.metric, row.planned)}</td>
                  <td data-testid="pva-actual">{formatFigure(row.metric, row.actual)}</td>
                  <td data-testid="pva-difference">
                    {formatDifference(row.errorPercent)}
                    {over && (
                      <span className="pva-flag">
                        {" "}
                        <span aria-hidden="true">⚠</span>
                        <span className="visually-hidden">over {DIFFERENCE_THRESHOLD}%</span>
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="muted pva-note">
        {first.engine} · recorded {new Date(first.recordedAt).toLocaleString()}
        {loaded.rows.length > rows.length ? " · earlier launches' rows are kept by the API" : ""}
      </p>
    </>
  );
}

export function PlanVsActual({ instances }: { instances: PlannedInstance[] | null }) {
  const [loaded, setLoaded] = useState<Map<string, Loaded>>(new Map());
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const asked = useRef(new Map<string, string>());

  useEffect(() => {
    for (const instance of instances ?? []) {
      const key = stateKey(instance);
      if (asked.current.get(instance.name) === key) continue;
      asked.current.set(instance.name, key);
      const store = (value: Loaded) =>
        setLoaded((previous) => {
          // an answer for an older state of the instance is dropped
          if (asked.current.get(instance.name) !== key) return previous;
          const next = new Map(previous);
          next.set(instance.name, value);
          return next;
        });
      api<{ rows: PlanVsActualRow[] }>(`/api/instances/${encodeURIComponent(instance.name)}/plan-vs-actual`)
        .then((body) => store({ key, rows: body.rows, error: null }))
        .catch((error) => store({ key, rows: null, error }));
    }
  }, [instances]);

  if (instances === null || instances.length === 0) return null;
  const ordered = [...instances].sort(
    (a, b) => Number(b.status === "ready") - Number(a.status === "ready") || a.name.localeCompare(b.name),
  );
  return (
    <section className="card" aria-labelledby="pva-title">
      <h2 id="pva-title">Plan vs actual memory</h2>
      <p className="muted pva-note">
        The planner's prediction at launch against what the engine's startup log reported. Difference is
        (actual − planned) / actual; beyond ±{DIFFERENCE_THRESHOLD}% it is highlighted.
      </p>
      {ordered.map((instance) => (
        <details
          key={instance.name}
          className="pva"
          data-pva={instance.name}
          open={!collapsed.has(instance.name)}
          onToggle={(event) => {
            const open = (event.currentTarget as HTMLDetailsElement).open;
            setCollapsed((previous) => {
              if (open !== previous.has(instance.name)) return previous;
              const next = new Set(previous);
              if (open) next.delete(instance.name);
              else next.add(instance.name);
              return next;
            });
          }}
        >
          <summary>
            <strong>{instance.name}</strong> <span className="muted">{instance.model}</span>{" "}
            <span className="muted">({instance.status})</span>
          </summary>
          <Comparison instance={instance} loaded={loaded.get(instance.name)} />
        </details>
      ))}
    </section>
  );
}
