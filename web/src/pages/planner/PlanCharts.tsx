/**
 * The plan's two charts: how many sequences fit at each context length (plan.tradeoff) and how
 * throughput and TPOT grow with concurrency (plan.performance.curve). Each figure has a caption and a
 * collapsible data table with the same numbers, for keyboard and screen-reader users.
 */
import { XYChart, type XYMarker, type XYSeries } from "../../components/XYChart";
import "./PlanCharts.css";

export interface TradeoffPoint {
  maxModelLen: number;
  maxConcurrency: number;
  fits: boolean;
}

export interface PlanCurvePoint {
  concurrency: number;
  tpotMs: number;
  ttftMs: number;
  outputTokensPerSecond: number;
  perRequestTokensPerSecond: number;
}

/** Table figures: the API's numbers (rounded to 2 decimals there), with thousands separators. */
export function formatFigure(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** Axis ticks for tokens and requests: 1k, 8k, 128k for multiples of 1024, otherwise the number. */
function formatTokens(value: number): string {
  if (value >= 1024 && value % 1024 === 0) return `${value / 1024}k`;
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  return String(Math.round(value));
}

function compact(value: number): string {
  if (Math.abs(value) >= 10_000) return `${Math.round(value / 1000)}k`;
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(1)}k`;
  if (Math.abs(value) >= 100 || Number.isInteger(value)) return value.toFixed(0);
  return value.toFixed(1);
}

function ContextChart({
  tradeoff,
  plannedContext,
  plannedConcurrency,
  fits,
}: {
  tradeoff: TradeoffPoint[];
  plannedContext: number;
  plannedConcurrency: number | null;
  fits: boolean;
}) {
  // the planned context is one of the points unless it is not a power of two: then the plan's own
  // KV-cache figure adds it
  const points = [...tradeoff];
  if (!points.some((p) => p.maxModelLen === plannedContext) && plannedConcurrency !== null) {
    points.push({ maxModelLen: plannedContext, maxConcurrency: plannedConcurrency, fits });
    points.sort((a, b) => a.maxModelLen - b.maxModelLen);
  }
  const anyMisfit = points.some((p) => !p.fits);
  const series: XYSeries[] = [
    { label: "Max concurrent sequences", color: "--chart-1", values: points.map((p) => p.maxConcurrency) },
  ];
  if (anyMisfit) {
    series.push({
      label: "Does not fit",
      color: "--bad",
      pointsOnly: true,
      values: points.map((p) => (p.fits ? null : p.maxConcurrency)),
    });
  }
  const markers: XYMarker[] = [
    { x: plannedContext, label: `planned ${formatTokens(plannedContext)}`, color: "--chart-3" },
  ];
  const first = points[0];
  const last = points[points.length - 1];
  const planned = points.find((p) => p.maxModelLen === plannedContext);
  const misfits = points.filter((p) => !p.fits).map((p) => formatFigure(p.maxModelLen));
  const description =
    first && last
      ? `Line chart: maximum concurrent sequences from ${formatFigure(first.maxConcurrency)} at ${formatFigure(first.maxModelLen)} tokens to ${formatFigure(last.maxConcurrency)} at ${formatFigure(last.maxModelLen)} tokens` +
        (planned
          ? `; the planned context, ${formatFigure(planned.maxModelLen)} tokens, admits ${formatFigure(planned.maxConcurrency)}`
          : "") +
        (misfits.length > 0 ? `; does not fit at ${misfits.join(", ")} tokens` : "")
      : "No data";
  return (
    <XYChart
      title="Context length vs concurrency"
      description={description}
      x={{
        label: "Context length (tokens)",
        values: points.map((p) => p.maxModelLen),
        log2: true,
        format: formatTokens,
      }}
      y={{ label: "Max concurrent sequences", format: compact }}
      series={series}
      markers={markers}
    >
      <details className="chart-data">
        <summary>
          Data<span className="visually-hidden">: context length vs concurrency</span>
        </summary>
        <div className="table-wrap">
          <table data-testid="tradeoff-table">
            <caption className="visually-hidden">Maximum concurrent sequences by context length</caption>
            <thead>
              <tr>
                <th scope="col">Context (tokens)</th>
                <th scope="col">Max concurrent sequences</th>
                <th scope="col">Fits</th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {points.map((p) => {
                const isPlanned = p.maxModelLen === plannedContext;
                return (
                  <tr
                    key={p.maxModelLen}
                    className={isPlanned ? "planned" : undefined}
                    data-planned={isPlanned ? "true" : undefined}
                  >
                    <th scope="row">{formatFigure(p.maxModelLen)}</th>
                    <td>{formatFigure(p.maxConcurrency)}</td>
                    <td className={p.fits ? undefined : "bad-text"}>{p.fits ? "yes" : "no"}</td>
                    <td>{isPlanned ? "planned context" : ""}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </details>
    </XYChart>
  );
}

function CurveChart({
  curve,
  saturation,
  requested,
}: {
  curve: PlanCurvePoint[];
  saturation: { concurrency: number; reason: string } | null;
  requested: number;
}) {
  const markers: XYMarker[] = [
    { x: requested, label: `requested ${formatFigure(requested)}`, color: "--chart-4" },
  ];
  if (saturation) {
    markers.push({
      x: saturation.concurrency,
      label: `saturation ${formatFigure(saturation.concurrency)}`,
      color: "--chart-3",
      dashed: true,
    });
  }
  const first = curve[0];
  const last = curve[curve.length - 1];
  const description =
    first && last
      ? `Line chart: output ${formatFigure(first.outputTokensPerSecond)} tokens/s and TPOT ${formatFigure(first.tpotMs)} ms at concurrency ${formatFigure(first.concurrency)}, ${formatFigure(last.outputTokensPerSecond)} tokens/s and ${formatFigure(last.tpotMs)} ms at ${formatFigure(last.concurrency)}` +
        (saturation ? `; saturation at ${formatFigure(saturation.concurrency)}` : "")
      : "No data";
  const noteOf = (c: number) =>
    [c === requested ? "requested" : "", c === saturation?.concurrency ? "saturation" : ""]
      .filter(Boolean)
      .join(", ");
  return (
    <XYChart
      title="Throughput and TPOT vs concurrency"
      description={description}
      x={{
        label: "Concurrent requests",
        values: curve.map((p) => p.concurrency),
        log2: true,
        format: formatTokens,
      }}
      y={{ label: "Output tokens/s", format: compact }}
      y2={{ label: "TPOT (ms)", format: compact }}
      series={[
        { label: "Output tokens/s", color: "--chart-1", values: curve.map((p) => p.outputTokensPerSecond) },
        { label: "TPOT ms", color: "--chart-2", axis: "y2", values: curve.map((p) => p.tpotMs) },
      ]}
      markers={markers}
    >
      {saturation && (
        <p className="saturation" data-testid="saturation">
          Saturates at {formatFigure(saturation.concurrency)} concurrent requests: {saturation.reason}.
        </p>
      )}
      <details className="chart-data">
        <summary>
          Data<span className="visually-hidden">: throughput and TPOT vs concurrency</span>
        </summary>
        <div className="table-wrap">
          <table data-testid="curve-table">
            <caption className="visually-hidden">Throughput and latency by concurrency</caption>
            <thead>
              <tr>
                <th scope="col">Concurrency</th>
                <th scope="col">Output tokens/s</th>
                <th scope="col">TPOT (ms)</th>
                <th scope="col">TTFT (ms)</th>
                <th scope="col">Per-request tokens/s</th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {curve.map((p) => {
                const note = noteOf(p.concurrency);
                return (
                  <tr key={p.concurrency} className={note ? "planned" : undefined}>
                    <th scope="row">{formatFigure(p.concurrency)}</th>
                    <td>{formatFigure(p.outputTokensPerSecond)}</td>
                    <td>{formatFigure(p.tpotMs)}</td>
                    <td>{formatFigure(p.ttftMs)}</td>
                    <td>{formatFigure(p.perRequestTokensPerSecond)}</td>
                    <td>{note}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </details>
    </XYChart>
  );
}

export function PlanCharts({
  tradeoff,
  curve,
  saturation,
  plannedContext,
  plannedConcurrency,
  fits,
  requestedConcurrency,
}: {
  tradeoff: TradeoffPoint[];
  curve: PlanCurvePoint[];
  saturation: { concurrency: number; reason: string } | null;
  plannedContext: number;
  /** The plan's KV-cache concurrency at the planned context. */
  plannedConcurrency: number | null;
  fits: boolean;
  requestedConcurrency: number;
}) {
  if (tradeoff.length === 0 && curve.length === 0) return null;
  return (
    <section className="card" aria-labelledby="charts-title">
      <h2 id="charts-title">Capacity and throughput</h2>
      <div className="plan-charts">
        {tradeoff.length > 0 ? (
          <ContextChart
            tradeoff={tradeoff}
            plannedContext={plannedContext}
            plannedConcurrency={plannedConcurrency}
            fits={fits}
          />
        ) : (
          <p className="muted">No context-length trade-off for this plan.</p>
        )}
        {curve.length > 0 ? (
          <CurveChart curve={curve} saturation={saturation} requested={requestedConcurrency} />
        ) : (
          <p className="muted">No performance estimate for this plan.</p>
        )}
      </div>
    </section>
  );
}
