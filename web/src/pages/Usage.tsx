/** The Usage page: gateway totals, tokens per day, per-model and per-key tables, percentiles, energy; API keys. */

import { useCallback, useEffect, useId, useState } from "react";
// /api/usage answers core's analytics as JSON (src/studio/modules/usage.ts)
import type { UsageAnalytics, UsageBreakdownRow } from "../../../src/core/usage/analytics";
import { api } from "../api";
import { ErrorBox } from "../components/ErrorBox";
import { formatNumber } from "../format";
import { Keys } from "./usage/Keys";
import { TokensChart } from "./usage/TokensChart";
import "./Usage.css";

const DAY_CHOICES = [1, 7, 14, 30, 90];

const ms = (value: number | null | undefined) =>
  value === null || value === undefined ? "–" : `${formatNumber(value)} ms`;
const pct = (value: number | null | undefined) =>
  value === null || value === undefined ? "–" : `${(value * 100).toFixed(value >= 0.999 ? 0 : 1)}%`;
const change = (value: number | null) =>
  value === null ? "not comparable" : `${value > 0 ? "+" : ""}${value.toFixed(0)}% vs the week before`;

function GroupTable({
  caption,
  first,
  rows,
}: {
  caption: string;
  first: string;
  rows: { label: string; row: UsageBreakdownRow }[];
}) {
  if (rows.length === 0) return <p className="muted">No requests in this window.</p>;
  return (
    <div className="table-wrap">
      <table className="stack-table usage-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{first}</th>
            <th scope="col" className="num">
              Requests
            </th>
            <th scope="col" className="num">
              Success
            </th>
            <th scope="col" className="num">
              Prompt
            </th>
            <th scope="col" className="num">
              Completion
            </th>
            <th scope="col" className="num">
              Latency p50 / p95
            </th>
            <th scope="col" className="num">
              TTFT p50
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ label, row }) => (
            <tr key={label}>
              <td data-label={first} className="wrap">
                {label}
              </td>
              <td data-label="Requests" className="num">
                {row.requests.toLocaleString()}
              </td>
              <td data-label="Success" className="num">
                {pct(row.successRate)}
              </td>
              <td data-label="Prompt" className="num">
                {formatNumber(row.promptTokens)}
              </td>
              <td data-label="Completion" className="num">
                {formatNumber(row.completionTokens)}
              </td>
              <td data-label="Latency" className="num">
                {ms(row.latencyP50Ms)} / {ms(row.latencyP95Ms)}
              </td>
              <td data-label="TTFT p50" className="num">
                {ms(row.ttftP50Ms)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default function Usage() {
  const [days, setDays] = useState(14);
  const [report, setReport] = useState<UsageAnalytics | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  // bumped by Refresh: the keys table reloads too (its "last used" times move with the usage)
  const [keysVersion, setKeysVersion] = useState(0);
  const daysId = useId();

  const load = useCallback(async (window: number) => {
    setLoading(true);
    try {
      setReport(await api<UsageAnalytics>(`/api/usage?days=${window}`));
      setError(null);
    } catch (caught) {
      setError(caught);
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    void load(days);
  }, [load, days]);

  const totals = report?.totals;
  return (
    <section className="usage-page">
      <div className="page-head">
        <h1>Usage</h1>
        <div className="field days-field">
          <label htmlFor={daysId}>Window</label>
          <select id={daysId} value={days} onChange={(event) => setDays(Number(event.target.value))}>
            {DAY_CHOICES.map((choice) => (
              <option key={choice} value={choice}>
                {choice === 1 ? "today" : `last ${choice} days`}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          onClick={() => {
            void load(days);
            setKeysVersion((n) => n + 1);
          }}
          disabled={loading}
        >
          Refresh
        </button>
        {report && (
          <span className="muted">
            {new Date(report.window.from).toLocaleDateString()} –{" "}
            {new Date(report.window.to).toLocaleString()}
          </span>
        )}
      </div>
      <ErrorBox error={error} />
      {report && totals && (
        <>
          <div className="card">
            <h2>Totals</h2>
            <dl className="stat-grid" data-testid="usage-totals">
              <div>
                <dt>Requests</dt>
                <dd data-testid="total-requests">{totals.requests.toLocaleString()}</dd>
              </div>
              <div>
                <dt>Success rate</dt>
                <dd>{pct(totals.successRate)}</dd>
              </div>
              <div>
                <dt>Failed</dt>
                <dd>{totals.failed.toLocaleString()}</dd>
              </div>
              <div>
                <dt>Prompt tokens</dt>
                <dd data-testid="total-prompt">{totals.promptTokens.toLocaleString()}</dd>
              </div>
              <div>
                <dt>Completion tokens</dt>
                <dd data-testid="total-completion">{totals.completionTokens.toLocaleString()}</dd>
              </div>
              <div>
                <dt>Cached tokens</dt>
                <dd>{totals.cachedTokens.toLocaleString()}</dd>
              </div>
              <div>
                <dt>Tokens per request</dt>
                <dd>
                  {report.tokensPerRequest.total === null ? "–" : formatNumber(report.tokensPerRequest.total)}
                </dd>
              </div>
              <div>
                <dt>Energy per million tokens</dt>
                <dd data-testid="energy">
                  {report.energy.whPerMillionTokens === null
                    ? "–"
                    : `${formatNumber(report.energy.whPerMillionTokens)} Wh`}
                </dd>
              </div>
            </dl>
            <p className="muted wow" data-testid="week-over-week">
              {report.weekOverWeek.requestsChangePercent === null &&
              report.weekOverWeek.tokensChangePercent === null
                ? "No requests the week before to compare with."
                : `Requests ${change(report.weekOverWeek.requestsChangePercent)}; tokens ${change(report.weekOverWeek.tokensChangePercent)}.`}{" "}
              GPU energy in the window: {formatNumber(report.energy.wh)} Wh over{" "}
              {formatNumber(report.energy.minutes)} min.
            </p>
          </div>
          <div className="usage-grid">
            <div className="card">
              <TokensChart days={report.days} />
            </div>
            <div className="card">
              <h2>Latency and time to first token</h2>
              <div className="table-wrap">
                <table className="percentiles">
                  <caption className="visually-hidden">Latency and TTFT percentiles</caption>
                  <thead>
                    <tr>
                      <th scope="col">Percentile</th>
                      <th scope="col" className="num">
                        Latency
                      </th>
                      <th scope="col" className="num">
                        TTFT
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {(["p50", "p95", "p99"] as const).map((p) => (
                      <tr key={p}>
                        <th scope="row">{p}</th>
                        <td className="num">{ms(report.latencyMs[p])}</td>
                        <td className="num">{ms(report.ttftMs[p])}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          </div>
          <div className="card">
            <h2>By model</h2>
            <GroupTable
              caption="Usage by model"
              first="Model"
              rows={report.byModel.map((row) => ({ label: row.model, row }))}
            />
          </div>
          <div className="card">
            <h2>By API key</h2>
            <GroupTable
              caption="Usage by API key"
              first="Key"
              rows={report.byKey.map((row) => ({
                label:
                  row.keyId === "admin"
                    ? "admin / loopback"
                    : `${row.name ?? row.keyId}${row.prefix ? ` (${row.prefix}…)` : ""}`,
                row,
              }))}
            />
          </div>
        </>
      )}
      <Keys onChange={() => load(days)} version={keysVersion} />
    </section>
  );
}
