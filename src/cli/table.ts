/** Column-aligned plain-text table; cells may contain ANSI colour codes. */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour escapes to measure width
  const visible = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "").length;
  const widths = headers.map((header, column) =>
    Math.max(visible(header), ...rows.map((row) => visible(row[column] ?? ""))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell + " ".repeat(Math.max(0, (widths[column] ?? 0) - visible(cell))))
      .join("  ")
      .trimEnd();
  return `${[line(headers), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n")}\n`;
}

export function formatCount(value: number): string {
  if (value >= 1e12) return `${(value / 1e12).toFixed(2)}T`;
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)}B`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}K`;
  return String(value);
}

export function formatGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}
