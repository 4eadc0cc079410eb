/** A uPlot time-series chart that follows the container's width and the theme's colours. */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import { formatNumber } from "../format";
import { useTheme } from "../theme";
import "uplot/dist/uPlot.min.css";

export interface SeriesSpec {
  label: string;
  /** A CSS custom property (--chart-1 …) or a colour. */
  color: string;
}

/** A CSS custom property (--chart-1 …) of the element's theme, or the colour itself. */
export function resolveColor(color: string, element: Element): string {
  if (!color.startsWith("--")) return color;
  return getComputedStyle(element).getPropertyValue(color).trim() || "#888";
}

export function Chart({
  title,
  unit,
  series,
  data,
  height = 180,
  max,
  windowSeconds = 300,
}: {
  title: string;
  unit: string;
  series: SeriesSpec[];
  /** [times (s), ...values]: one array per series, aligned with the times. */
  data: uPlot.AlignedData;
  height?: number;
  max?: number;
  /** The x axis spans this many seconds. */
  windowSeconds?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const seriesKey = series.map((s) => `${s.label}:${s.color}`).join("|");
  // the theme store (its effect sets data-theme before the chart below is built in the new colours)
  const [theme] = useTheme();

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt when the series or the theme change; data flows in below
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const axisColor = resolveColor("--muted", element);
    const gridColor = resolveColor("--border", element);
    const axis = { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } };
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // always the last 5 minutes, up to the newest sample (or now, before the first)
        x: {
          time: true,
          range: (u) => {
            const times = u.data[0];
            const end = times.length > 0 ? (times[times.length - 1] as number) : Date.now() / 1000;
            return [end - windowSeconds, end];
          },
        },
        y: max === undefined ? { range: (_u, _min, hi) => [0, Math.max(1, hi * 1.1)] } : { range: [0, max] },
      },
      axes: [
        axis,
        { ...axis, size: 56, values: (_u, values) => values.map((v) => `${formatNumber(v)}${unit}`) },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: resolveColor(s.color, element),
          width: 2,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v === null ? "–" : `${formatNumber(v)}${unit}`),
        })),
      ],
    };
    const instance = new uPlot(options, data, element);
    plot.current = instance;
    const observer = new ResizeObserver(() => {
      instance.setSize({ width: Math.max(200, element.clientWidth), height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      instance.destroy();
      plot.current = null;
    };
  }, [seriesKey, height, unit, max, theme, windowSeconds]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title} over the last 5 minutes`} />
    </figure>
  );
}
