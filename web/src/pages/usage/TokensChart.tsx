/** Tokens per day as stacked uPlot bars: prompt below, completion on top. */

import { useEffect, useRef } from "react";
import uPlot from "uplot";
import { resolveColor } from "../../components/Chart";
import { formatNumber } from "../../format";
import { useTheme } from "../../theme";
import "uplot/dist/uPlot.min.css";

export interface DayRow {
  date: string;
  promptTokens: number;
  completionTokens: number;
}

export function TokensChart({ days, height = 220 }: { days: DayRow[]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  // the theme store (its effect sets data-theme before the chart below is built in the new colours)
  const [theme] = useTheme();

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt when the data or the theme change
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const times = days.map((day) => Date.parse(`${day.date}T00:00:00Z`) / 1000);
    const prompt = days.map((day) => day.promptTokens);
    const total = days.map((day) => day.promptTokens + day.completionTokens);
    const axisColor = resolveColor("--muted", element);
    const gridColor = resolveColor("--border", element);
    const axis = { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } };
    const bars = uPlot.paths.bars?.({ size: [0.7, 48], align: 0 });
    const span = 86_400;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: {
          time: true,
          range: () => [(times[0] ?? 0) - span / 2, (times[times.length - 1] ?? 0) + span / 2],
        },
        y: { range: (_u, _min, hi) => [0, Math.max(1, hi * 1.1)] },
      },
      axes: [
        { ...axis, values: (_u, values) => values.map((v) => new Date(v * 1000).toISOString().slice(5, 10)) },
        { ...axis, size: 56, values: (_u, values) => values.map((v) => formatNumber(v)) },
      ],
      series: [
        { value: (_u, v) => (v === null ? "–" : new Date(v * 1000).toISOString().slice(0, 10)) },
        {
          // drawn first, as tall as prompt + completion: what shows above the prompt bar is completion
          label: "Completion",
          fill: resolveColor("--chart-2", element),
          stroke: resolveColor("--chart-2", element),
          paths: bars,
          points: { show: false },
          value: (_u, v, _s, index) =>
            v === null || index === null ? "–" : formatNumber(v - (prompt[index] ?? 0)),
        },
        {
          label: "Prompt",
          fill: resolveColor("--chart-1", element),
          stroke: resolveColor("--chart-1", element),
          paths: bars,
          points: { show: false },
          value: (_u, v) => (v === null ? "–" : formatNumber(v)),
        },
      ],
    };
    const plot = new uPlot(options, [times, total, prompt], element);
    const observer = new ResizeObserver(() => {
      plot.setSize({ width: Math.max(200, element.clientWidth), height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [days, height, theme]);

  const sum = days.reduce((acc, day) => acc + day.promptTokens + day.completionTokens, 0);
  return (
    <figure className="chart">
      <figcaption>Tokens per day (prompt and completion)</figcaption>
      <div
        ref={box}
        role="img"
        aria-label={`Tokens per day over ${days.length} days: ${formatNumber(sum)} in all, prompt and completion stacked`}
      />
    </figure>
  );
}
