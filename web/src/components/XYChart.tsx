/**
 * A uPlot x/y chart (not time-based): an optional log2 x axis, one or two y axes, point-only series
 * and labelled vertical markers, in the theme's colours, following the container's width. Whatever
 * the figure needs besides the plot (a data table for keyboard and screen-reader users) comes as
 * children.
 */

import { type ReactNode, useEffect, useId, useRef } from "react";
import uPlot from "uplot";
import { formatNumber } from "../format";
import { useTheme } from "../theme";
import { resolveColor } from "./Chart";
import "uplot/dist/uPlot.min.css";

export interface XYSeries {
  label: string;
  /** A CSS custom property (--chart-1 …) or a colour. */
  color: string;
  /** Aligned with the x values; null leaves a gap. */
  values: (number | null)[];
  /** Which y axis: "y" (left, default) or "y2" (right). */
  axis?: "y" | "y2";
  /** Points only, no line (e.g. the points that do not fit). */
  pointsOnly?: boolean;
}

export interface XYAxis {
  label: string;
  format?: (value: number) => string;
}

export interface XYMarker {
  /** Where on the x axis. */
  x: number;
  label: string;
  color: string;
  dashed?: boolean;
}

/** Powers of two in [min, max], thinned so that labels keep about `space` CSS pixels apart. */
function log2Splits(min: number, max: number, widthCss: number, space = 44): number[] {
  const splits: number[] = [];
  for (let v = 2 ** Math.ceil(Math.log2(min)); v <= max * 1.0001; v *= 2) splits.push(v);
  const room = Math.max(2, Math.floor(widthCss / space));
  const step = Math.max(1, Math.ceil(splits.length / room));
  return splits.filter((_, i) => i % step === 0);
}

export function XYChart({
  title,
  description,
  x,
  y,
  y2,
  series,
  markers = [],
  height = 220,
  children,
}: {
  title: string;
  /** What the plot shows, for the role="img" label. */
  description: string;
  x: XYAxis & { values: number[]; log2?: boolean };
  y: XYAxis;
  y2?: XYAxis;
  series: XYSeries[];
  markers?: XYMarker[];
  height?: number;
  children?: ReactNode;
}) {
  const captionId = useId();
  const box = useRef<HTMLDivElement>(null);
  // the theme store (its effect sets data-theme before the chart below is built in the new colours)
  const [theme] = useTheme();
  const key = JSON.stringify([x.values, x.log2, series, markers, y.label, y2?.label, height]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt when the data (key) or the theme change
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const axisColor = resolveColor("--muted", element);
    const gridColor = resolveColor("--border", element);
    const xFormat = x.format ?? formatNumber;
    const yFormat = y.format ?? formatNumber;
    const y2Format = y2?.format ?? formatNumber;
    const axis = {
      stroke: axisColor,
      grid: { stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor },
      labelFont: "12px system-ui, sans-serif",
      font: "11px system-ui, sans-serif",
    };
    const xs = x.values;
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const widthOf = () => Math.max(120, element.clientWidth);
    const yRange = (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, max > 0 ? max * 1.1 : 1];
    const drawMarkers = (u: uPlot) => {
      const ratio = uPlot.pxRatio;
      const { ctx, bbox } = u;
      ctx.save();
      ctx.font = `${11 * ratio}px system-ui, sans-serif`;
      ctx.textBaseline = "top";
      markers.forEach((marker, index) => {
        const px = u.valToPos(marker.x, "x", true);
        if (!Number.isFinite(px) || px < bbox.left - 1 || px > bbox.left + bbox.width + 1) return;
        const color = resolveColor(marker.color, element);
        ctx.strokeStyle = color;
        ctx.lineWidth = 1.5 * ratio;
        ctx.setLineDash(marker.dashed ? [5 * ratio, 4 * ratio] : []);
        ctx.beginPath();
        ctx.moveTo(px, bbox.top);
        ctx.lineTo(px, bbox.top + bbox.height);
        ctx.stroke();
        const right = px > bbox.left + bbox.width / 2;
        ctx.textAlign = right ? "right" : "left";
        ctx.fillStyle = color;
        ctx.fillText(marker.label, px + (right ? -4 : 4) * ratio, bbox.top + (4 + index * 14) * ratio);
      });
      ctx.restore();
    };
    const options: uPlot.Options = {
      width: widthOf(),
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        x: x.log2
          ? {
              time: false,
              distr: 3,
              log: 2,
              range: (): uPlot.Range.MinMax => (lo === hi ? [lo / 2, hi * 2] : [lo, hi]),
            }
          : { time: false, range: (): uPlot.Range.MinMax => (lo === hi ? [lo - 1, hi + 1] : [lo, hi]) },
        y: { range: yRange },
        ...(y2 ? { y2: { range: yRange } } : {}),
      },
      axes: [
        {
          ...axis,
          label: x.label,
          values: (_u, values) => values.map((v) => (v === null ? "" : xFormat(v))),
          ...(x.log2
            ? {
                splits: (u: uPlot, _i: number, min: number, max: number) =>
                  log2Splits(min, max, u.bbox.width / uPlot.pxRatio),
                // the splits are thinned already: no log10-style filtering of the labels
                filter: (_u: uPlot, splits: number[]) => splits,
              }
            : {}),
        },
        {
          ...axis,
          scale: "y",
          label: y.label,
          size: 52,
          values: (_u, values) => values.map((v) => (v === null ? "" : yFormat(v))),
        },
        ...(y2
          ? [
              {
                ...axis,
                scale: "y2",
                side: 1 as const,
                label: y2.label,
                size: 52,
                grid: { show: false },
                values: (_u: uPlot, values: (number | null)[]) =>
                  values.map((v) => (v === null ? "" : y2Format(v))),
              },
            ]
          : []),
      ],
      series: [
        { label: x.label, value: (_u: uPlot, v: number | null) => (v === null ? "–" : xFormat(v)) },
        ...series.map((s) => {
          const stroke = resolveColor(s.color, element);
          const format = s.axis === "y2" ? y2Format : yFormat;
          return {
            label: s.label,
            scale: s.axis ?? "y",
            stroke,
            width: s.pointsOnly ? 0 : 2,
            spanGaps: false,
            points: s.pointsOnly ? { show: true, size: 9, fill: stroke, stroke } : { show: true, size: 5 },
            ...(s.pointsOnly ? { paths: () => null } : {}),
            value: (_u: uPlot, v: number | null) => (v === null ? "–" : format(v)),
          };
        }),
      ],
      hooks: { draw: [drawMarkers] },
    };
    const instance = new uPlot(options, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, element);
    const observer = new ResizeObserver(() => {
      instance.setSize({ width: widthOf(), height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      instance.destroy();
    };
  }, [key, theme]);

  return (
    <figure className="chart xy-chart" aria-labelledby={captionId}>
      <figcaption id={captionId}>{title}</figcaption>
      <div className="xy-plot" ref={box} role="img" aria-label={description} />
      {markers.length > 0 && (
        <ul className="legend xy-markers" aria-label={`${title}: marked`}>
          {markers.map((m) => (
            <li key={`${m.label}-${m.x}`}>
              <span
                className={`marker-swatch${m.dashed ? " dashed" : ""}`}
                style={{ borderColor: m.color.startsWith("--") ? `var(${m.color})` : m.color }}
                aria-hidden="true"
              />{" "}
              {m.label}
            </li>
          ))}
        </ul>
      )}
      {children}
    </figure>
  );
}
