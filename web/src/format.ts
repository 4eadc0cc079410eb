/** How the pages write numbers, sizes, dates and states (kept out of the chart and page chunks). */

export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (abs >= 10_000) return `${(value / 1000).toFixed(0)}k`;
  if (abs >= 1000) return `${(value / 1000).toFixed(1)}k`;
  if (abs >= 100 || Number.isInteger(value)) return value.toFixed(0);
  return value.toFixed(1);
}

/** Bytes in binary steps (1024), as "70 B", "1.5 KB", "312 MB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** An ISO time in the browser's locale; "–" when there is none. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** The badge class of an instance (or launch) state: ok, bad, neutral or busy. */
export function statusClass(status: string): string {
  if (status === "ready" || status === "running") return "badge ok";
  if (status === "failed" || status === "crashed") return "badge bad";
  if (status === "stopped") return "badge";
  return "badge busy";
}
