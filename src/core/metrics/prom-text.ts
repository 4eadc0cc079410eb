/**
 * Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/):
 * `# HELP` / `# TYPE` comments, samples `name{label="value",…} value [timestamp]` with the label
 * escapes `\\`, `\"` and `\n`, values as Go's ParseFloat reads them (NaN, +Inf, -Inf included).
 *
 * The parser never throws: a line it cannot read becomes an entry in `errors` (with its line number)
 * and the other lines still count, so one odd line from an engine does not blank a dashboard.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

const METRIC_TYPES: readonly MetricType[] = ["counter", "gauge", "histogram", "summary", "untyped"];

export interface Sample {
  /** The sample's own name (`vllm:prompt_tokens_total`, `…_bucket`, `…_sum`). */
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  timestampMs: number | null;
}

export interface ParseError {
  /** 1-based line number. */
  line: number;
  message: string;
  text: string;
}

export interface Exposition {
  samples: Sample[];
  /** HELP text by metric family name. */
  help: Record<string, string>;
  /** TYPE by metric family name. */
  types: Record<string, MetricType>;
  errors: ParseError[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i;
const INTEGER = /^-?\d+$/;

/** A value as Go's strconv.ParseFloat accepts it (what Prometheus uses), or null. */
export function parseSampleValue(text: string): number | null {
  if (!FLOAT.test(text)) return null;
  const lower = text.toLowerCase();
  if (lower.endsWith("nan")) return Number.NaN;
  if (lower.endsWith("inf") || lower.endsWith("infinity")) {
    return lower.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return Number(text);
}

/** Formats a value so that parseSampleValue reads the same number back. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_match, c: string) => (c === "n" ? "\n" : "\\"));
}

class LineError extends Error {}

interface Cursor {
  text: string;
  pos: number;
}

function skipBlanks(cursor: Cursor): void {
  while (cursor.text[cursor.pos] === " " || cursor.text[cursor.pos] === "\t") cursor.pos += 1;
}

function readLabelValue(cursor: Cursor): string {
  if (cursor.text[cursor.pos] !== '"') throw new LineError("expected '\"' to open a label value");
  cursor.pos += 1;
  let value = "";
  for (;;) {
    const c = cursor.text[cursor.pos];
    if (c === undefined) throw new LineError("unterminated label value");
    cursor.pos += 1;
    if (c === '"') return value;
    if (c === "\\") {
      const next = cursor.text[cursor.pos];
      if (next === undefined) throw new LineError("unterminated escape in label value");
      cursor.pos += 1;
      // \\, \" and \n are the escapes; Prometheus keeps any other escaped character as written
      value += next === "n" ? "\n" : next === "\\" || next === '"' ? next : `\\${next}`;
    } else {
      value += c;
    }
  }
}

function readLabels(cursor: Cursor): Record<string, string> {
  const labels: Record<string, string> = {};
  cursor.pos += 1; // "{"
  for (;;) {
    skipBlanks(cursor);
    if (cursor.text[cursor.pos] === "}") {
      cursor.pos += 1;
      return labels;
    }
    const name = LABEL_NAME.exec(cursor.text.slice(cursor.pos))?.[0];
    if (name === undefined) throw new LineError(`invalid label name at column ${cursor.pos + 1}`);
    cursor.pos += name.length;
    skipBlanks(cursor);
    if (cursor.text[cursor.pos] !== "=") throw new LineError(`expected '=' after label ${name}`);
    cursor.pos += 1;
    skipBlanks(cursor);
    const value = readLabelValue(cursor);
    if (Object.hasOwn(labels, name)) throw new LineError(`label ${name} appears twice`);
    labels[name] = value;
    skipBlanks(cursor);
    const c = cursor.text[cursor.pos];
    if (c === ",") cursor.pos += 1;
    else if (c !== "}") throw new LineError(`expected ',' or '}' after label ${name}`);
  }
}

function parseSampleLine(line: string): Sample {
  const cursor: Cursor = { text: line, pos: 0 };
  skipBlanks(cursor);
  const name = METRIC_NAME.exec(line.slice(cursor.pos))?.[0];
  if (name === undefined) throw new LineError("expected a metric name");
  cursor.pos += name.length;
  skipBlanks(cursor);
  const labels = line[cursor.pos] === "{" ? readLabels(cursor) : {};
  const rest = line.slice(cursor.pos).trim();
  if (rest === "") throw new LineError(`metric ${name} has no value`);
  const fields = rest.split(/[ \t]+/);
  if (fields.length > 2) throw new LineError(`unexpected text after the value of ${name}`);
  const value = parseSampleValue(fields[0] as string);
  if (value === null) throw new LineError(`invalid value "${fields[0]}" for ${name}`);
  let timestampMs: number | null = null;
  if (fields[1] !== undefined) {
    if (!INTEGER.test(fields[1])) throw new LineError(`invalid timestamp "${fields[1]}" for ${name}`);
    timestampMs = Number(fields[1]);
  }
  return { name, labels, value, timestampMs };
}

function parseComment(line: string, exposition: Exposition): void {
  // one blank separates the name from the text: HELP text may itself start with blanks
  const match = /^#[ \t]+(HELP|TYPE)[ \t]+([^ \t]+)(?:[ \t](.*))?$/.exec(line);
  if (match === null) return; // any other comment is ignored
  const [, keyword, name, rest = ""] = match as unknown as [string, string, string, string | undefined];
  if (!METRIC_NAME.test(name) || METRIC_NAME.exec(name)?.[0] !== name) {
    throw new LineError(`invalid metric name "${name}" in ${keyword}`);
  }
  if (keyword === "HELP") {
    exposition.help[name] = unescapeHelp(rest);
    return;
  }
  const type = rest.trim() as MetricType;
  if (!METRIC_TYPES.includes(type)) throw new LineError(`unknown metric type "${rest.trim()}" for ${name}`);
  exposition.types[name] = type;
}

export function parsePromText(text: string): Exposition {
  const exposition: Exposition = { samples: [], help: {}, types: {}, errors: [] };
  const lines = typeof text === "string" ? text.split("\n") : [];
  lines.forEach((raw, index) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") return;
    try {
      if (line.trimStart().startsWith("#")) parseComment(line.trimStart(), exposition);
      else exposition.samples.push(parseSampleLine(line));
    } catch (error) {
      const message = error instanceof LineError ? error.message : `unreadable line (${String(error)})`;
      exposition.errors.push({ line: index + 1, message, text: line.slice(0, 200) });
    }
  });
  return exposition;
}

const SUFFIXES = ["_bucket", "_count", "_sum", "_total", "_created", "_info"] as const;

/**
 * The family a sample belongs to, given the TYPE lines: `x_bucket` of histogram `x`, `x_total` of
 * counter `x` (Python clients declare the family without `_total`), else its own name.
 */
export function familyOf(sampleName: string, types: Record<string, MetricType>): string {
  if (types[sampleName] !== undefined) return sampleName;
  for (const suffix of SUFFIXES) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length);
      if (types[base] !== undefined) return base;
    }
  }
  return sampleName;
}

export interface MetricFamily {
  name: string;
  help: string | null;
  type: MetricType | null;
  samples: Sample[];
}

function renderLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

export function renderSample(sample: Sample): string {
  const timestamp = sample.timestampMs === null ? "" : ` ${sample.timestampMs}`;
  return `${sample.name}${renderLabels(sample.labels)} ${formatSampleValue(sample.value)}${timestamp}`;
}

/** Text exposition of the families, in the order given. */
export function renderPromText(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (family.help !== null) lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    if (family.type !== null) lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) lines.push(renderSample(sample));
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
