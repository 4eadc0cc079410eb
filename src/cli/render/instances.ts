import type { InstanceRecord } from "../../runtime/supervisor/instance.js";
import type { LaunchResult } from "../../runtime/supervisor/launch.js";
import type { InstanceStatusReport } from "../../runtime/supervisor/status.js";
import type { StopResult } from "../../runtime/supervisor/stop.js";
import type { Colors } from "../output.js";
import { renderTable } from "../table.js";

function statusText(report: Pick<InstanceStatusReport, "record" | "healthy">, c: Colors): string {
  const status = report.record.status;
  if (status === "ready")
    return report.healthy === false ? c.yellow("ready (not answering)") : c.green("ready");
  if (status === "failed") return c.red("failed");
  if (status === "starting") return c.cyan(`starting (${report.record.phase})`);
  return status;
}

function gpuText(record: InstanceRecord): string {
  return record.gpus.length === 0 ? "cpu" : record.gpus.map((g) => g.index).join(",");
}

function since(iso: string | null, now = Date.now()): string {
  if (iso === null) return "-";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

export function renderInstanceTable(reports: readonly InstanceStatusReport[], c: Colors): string {
  if (reports.length === 0) return "no instances (start one with servepilot launch <model>)\n";
  return renderTable(
    ["name", "status", "engine", "model", "gpus", "endpoint", "pid", "up", "recipe"],
    reports.map((r) => [
      r.record.name,
      statusText(r, c),
      r.record.engine,
      r.record.model,
      gpuText(r.record),
      r.record.endpoint,
      r.record.containerId ? r.record.containerId.slice(0, 12) : String(r.record.pid ?? "-"),
      r.record.status === "ready" ? since(r.record.readyAt) : "-",
      r.record.recipeId,
    ]),
  );
}

function planVsActual(record: InstanceRecord, c: Colors): string[] {
  if (record.planVsActual.length === 0) return [];
  const rows = record.planVsActual.map((row) => [
    row.metric,
    String(Math.round(row.planned * 100) / 100),
    String(Math.round(row.actual * 100) / 100),
    `${row.errorPercent > 0 ? "+" : ""}${row.errorPercent.toFixed(1)}%`,
  ]);
  return [
    "",
    c.bold("plan vs actual (per GPU):"),
    renderTable(["figure", "planned", "engine", "diff"], rows).trimEnd(),
  ];
}

function failureLines(record: InstanceRecord, c: Colors): string[] {
  const failure = record.failure;
  if (failure === null) return [];
  return [
    "",
    `${c.red("failed:")} ${failure.message} ${c.dim(`(${failure.cause})`)}`,
    ...failure.fixes.map((fix) => `  ${c.cyan("fix:")} ${fix}`),
  ];
}

export function renderInstanceDetail(report: InstanceStatusReport, c: Colors): string {
  const r = report.record;
  const lines = [
    `${c.bold(r.name)}  ${statusText(report, c)}${report.reason ? c.dim(` (${report.reason})`) : ""}`,
    `  model     ${r.model}${r.servedModelName !== r.model ? ` (served as ${r.servedModelName})` : ""}`,
    `  engine    ${r.engine}${(r.actual.engineVersion ?? r.engineVersion) ? ` ${r.actual.engineVersion ?? r.engineVersion}` : ""} (${r.mode === "docker" ? `container ${r.containerId?.slice(0, 12) ?? "-"}` : `pid ${r.pid ?? "-"}`})`,
    `  recipe    ${r.recipeId}${r.precision ? `, ${r.precision}` : ""}`,
    `  gpus      ${gpuText(r)}${r.gpus[0] ? ` (${r.gpus[0].name})` : ""}`,
    `  endpoint  ${r.endpoint}/v1`,
    `  log       ${r.logFile}`,
    `  started   ${r.createdAt}${r.readyAt ? `, ready ${r.readyAt}` : ""}${r.stoppedAt ? `, ended ${r.stoppedAt}` : ""}`,
    ...planVsActual(r, c),
    ...failureLines(r, c),
  ];
  return `${lines.join("\n")}\n`;
}

export function renderLaunchResult(result: LaunchResult, c: Colors): string {
  if (result.status === "dry-run") {
    const env = Object.entries(result.env).map(([k, v]) => `${k}=${v} `);
    return [
      `${c.bold("dry run")}: would start ${result.name} (${result.engine}, recipe ${result.recipeId}) on ${result.endpoint}`,
      `  gpus: ${result.gpus.length === 0 ? "none (cpu)" : result.gpus.map((g) => g.index).join(",")}, timeout ${result.timeoutSeconds} s`,
      `  ${env.join("")}${result.argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ")}`,
      ...result.warnings.map((w) => `${c.yellow("warning:")} ${w}`),
      "",
    ].join("\n");
  }
  const lines = [
    `${c.green("ready")}: ${c.bold(result.name)} serves ${result.servedModelName} at ${result.endpoint}/v1 (${result.engine}, recipe ${result.recipeId}, pid ${result.pid ?? result.containerId?.slice(0, 12) ?? "-"})`,
    ...result.warnings.map((w) => `${c.yellow("warning:")} ${w}`),
  ];
  if (result.planVsActual.length > 0) {
    lines.push(
      `plan vs actual: ${result.planVsActual.map((row) => `${row.metric} ${Math.round(row.planned * 100) / 100} / ${Math.round(row.actual * 100) / 100} (${row.errorPercent > 0 ? "+" : ""}${row.errorPercent.toFixed(1)}%)`).join(", ")}`,
    );
  }
  lines.push(c.dim(`stop it with: servepilot stop ${result.name}`), "");
  return lines.join("\n");
}

export function renderStopResult(result: StopResult, c: Colors): string {
  if (!result.wasRunning) return `${result.name} was not running (now ${result.record.status})\n`;
  const how = result.signal === "SIGKILL" ? c.yellow("killed (SIGKILL after the grace period)") : "stopped";
  const left =
    result.remaining.length > 0 ? c.red(`; processes still alive: ${result.remaining.join(", ")}`) : "";
  return `${how}: ${result.name}${left}\n`;
}
