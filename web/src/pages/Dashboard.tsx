/**
 * `/`: instances (stop, restart, switch), plan vs actual memory, GPUs, live charts, launch progress and
 * a quick-launch form.
 */

import { type FormEvent, type RefObject, useCallback, useEffect, useRef, useState } from "react";
import type uPlot from "uplot";
import { api, errorText } from "../api";
import { Chart } from "../components/Chart";
import { ErrorBox } from "../components/ErrorBox";
import { type StudioEvent, useEvents } from "../events";
import { formatNumber, statusClass } from "../format";
import type { EngineMetrics, Gpu, GpuSample, Instance, LaunchEvent, RecipeEntry } from "../types";
import { outcomeText, useLaunchOutcome } from "./dashboard/launch-outcome";
import { type PlannedInstance, PlanVsActual } from "./dashboard/PlanVsActual";
import { type Switched, SwitchForm } from "./dashboard/SwitchForm";
import "./dashboard/dashboard.css";

const WINDOW_S = 300;
const LOG_LINES = 12;

function gib(bytes: number | null): string {
  return bytes === null ? "–" : `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

function gpuIndices(instance: Instance): string {
  if (instance.gpus.length === 0) return "CPU";
  return instance.gpus.map((g) => (typeof g === "number" ? g : g.index)).join(", ");
}

/** Whether the instance's process may be up (a stopped or failed one's endpoint answers no more). */
function live(status: string): boolean {
  return !["stopped", "failed", "crashed"].includes(status);
}

function failureText(failure: Instance["failure"]): string | null {
  if (!failure) return null;
  return typeof failure === "string" ? failure : (failure.message ?? JSON.stringify(failure));
}

/** Whether a switch may stop it (the studio's `switch-away`: one that runs or starts). */
function switchable(status: string): boolean {
  return status === "ready" || status === "starting";
}

function Instances({
  instances,
  recipes,
  onChange,
}: {
  instances: Instance[] | null;
  recipes: RecipeEntry[];
  onChange: () => void;
}) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [switching, setSwitching] = useState<string | null>(null);
  const [switched, setSwitched] = useState<Switched | null>(null);
  const { outcome, watch, clear } = useLaunchOutcome();
  const closeSwitch = () => {
    const name = switching;
    setSwitching(null);
    if (name) document.getElementById(`switch-button-${name}`)?.focus();
  };
  const onSwitched = (result: Switched) => {
    setSwitching(null);
    setSwitched(result);
    watch(result.name);
    onChange();
  };
  const switchInstance = instances?.find((i) => i.name === switching) ?? null;
  const act = async (name: string, action: "stop" | "restart") => {
    setBusy(`${name}:${action}`);
    setError(null);
    try {
      await api(`/api/instances/${encodeURIComponent(name)}/${action}`, { method: "POST", body: {} });
      onChange();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  return (
    <section className="card" aria-labelledby="instances-title">
      <h2 id="instances-title">Instances</h2>
      <ErrorBox error={error} />
      {instances === null ? (
        <p className="muted">Loading…</p>
      ) : instances.length === 0 ? (
        <p className="muted">No instances yet: launch one below or from the planner.</p>
      ) : (
        <div className="table-wrap">
          <table className="instances">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Model</th>
                <th scope="col">Engine</th>
                <th scope="col">GPUs</th>
                <th scope="col">Endpoint</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {instances.map((instance) => {
                const failure = failureText(instance.failure);
                return (
                  <tr key={instance.name} data-instance={instance.name}>
                    <td data-label="Name">{instance.name}</td>
                    <td data-label="State">
                      <span className={statusClass(instance.status)} data-testid="instance-status">
                        {instance.status}
                      </span>
                      {instance.launching && instance.status !== "ready" && (
                        <span className="muted"> {instance.launching.phase}</span>
                      )}
                      {failure && <div className="error-text">{failure}</div>}
                    </td>
                    <td data-label="Model" className="wrap">
                      {instance.model}
                    </td>
                    <td data-label="Engine">
                      {instance.engine}
                      {instance.engineVersion ? ` ${instance.engineVersion}` : ""}
                    </td>
                    <td data-label="GPUs">{gpuIndices(instance)}</td>
                    <td data-label="Endpoint" className="wrap">
                      {live(instance.status) ? (instance.endpoint ?? "–") : "–"}
                    </td>
                    <td className="row-actions">
                      <div className="row-buttons">
                        <button
                          type="button"
                          onClick={() => act(instance.name, "stop")}
                          disabled={busy !== null || instance.status === "stopped"}
                          aria-label={`Stop ${instance.name}`}
                        >
                          Stop
                        </button>
                        <button
                          type="button"
                          onClick={() => act(instance.name, "restart")}
                          disabled={busy !== null}
                          aria-label={`Restart ${instance.name}`}
                        >
                          Restart
                        </button>
                        <button
                          type="button"
                          id={`switch-button-${instance.name}`}
                          onClick={() => {
                            if (switching === instance.name) closeSwitch();
                            else setSwitching(instance.name);
                          }}
                          disabled={
                            busy !== null || (!switchable(instance.status) && switching !== instance.name)
                          }
                          aria-label={`Switch ${instance.name}`}
                          aria-expanded={switching === instance.name}
                          aria-controls={switching === instance.name ? "switch-form" : undefined}
                        >
                          Switch…
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {switching && (
        <SwitchForm
          key={switching}
          instance={switching}
          currentModel={switchInstance?.model ?? "its model"}
          recipes={recipes}
          onSwitched={onSwitched}
          onClose={closeSwitch}
        />
      )}
      {switched && outcome && (
        <div className="switch-status">
          <p
            role="status"
            className={outcome.state === "failed" ? "error-text" : "ok-text"}
            data-testid="switch-status"
          >
            Stopped {switched.stopped}. {outcomeText(outcome)}
          </p>
          <button
            type="button"
            className="link"
            onClick={() => {
              setSwitched(null);
              clear();
            }}
          >
            Dismiss
          </button>
        </div>
      )}
    </section>
  );
}

function Meter({ label, value, max, text }: { label: string; value: number; max: number; text: string }) {
  const percent = max > 0 ? Math.min(100, (value / max) * 100) : 0;
  return (
    <div className="meter">
      <div className="meter-label">
        <span>{label}</span>
        <span>{text}</span>
      </div>
      <div className="meter-track" aria-hidden="true">
        <div className={`meter-fill${percent > 90 ? " high" : ""}`} style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}

function Gpus({ sample, error }: { sample: GpuSample | null; error: unknown }) {
  return (
    <section className="card" aria-labelledby="gpus-title">
      <h2 id="gpus-title">GPUs</h2>
      {error !== null && sample === null ? (
        <p className="muted">No GPUs detected: {errorText(error)}</p>
      ) : sample === null ? (
        <p className="muted">Loading…</p>
      ) : sample.gpus.length === 0 ? (
        <p className="muted">No GPUs on this host.</p>
      ) : (
        <ul className="gpu-grid">
          {sample.gpus.map((gpu: Gpu) => (
            <li key={gpu.key} className="gpu">
              <div className="gpu-name">
                <strong>GPU {gpu.index}</strong> <span className="muted">{gpu.name}</span>
              </div>
              <Meter
                label="Memory"
                value={gpu.memoryUsedBytes ?? 0}
                max={gpu.memoryTotalBytes ?? 0}
                text={`${gib(gpu.memoryUsedBytes)} / ${gib(gpu.memoryTotalBytes)}`}
              />
              <Meter
                label="Utilization"
                value={gpu.utilizationPercent ?? 0}
                max={100}
                text={gpu.utilizationPercent === null ? "–" : `${gpu.utilizationPercent}%`}
              />
              <div className="gpu-stats">
                <span>{gpu.temperatureC === null ? "–" : `${gpu.temperatureC} °C`}</span>
                <span>
                  {gpu.powerDrawW === null ? "–" : `${gpu.powerDrawW.toFixed(0)} W`}
                  {gpu.powerLimitW ? ` / ${gpu.powerLimitW.toFixed(0)} W` : ""}
                </span>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

interface Series {
  t: number[];
  gen: (number | null)[];
  prompt: (number | null)[];
  kv: (number | null)[];
  power: (number | null)[];
}

function emptySeries(): Series {
  return { t: [], gen: [], prompt: [], kv: [], power: [] };
}

/** Samples the latest figures once a second into 5-minute series. */
function useLiveSeries(
  latestMetrics: RefObject<Map<string, EngineMetrics>>,
  latestGpu: RefObject<GpuSample | null>,
) {
  const [series, setSeries] = useState<Series>(emptySeries);
  useEffect(() => {
    const timer = setInterval(() => {
      const now = Date.now() / 1000;
      const fresh = [...latestMetrics.current.values()].filter(
        (m) => !m.stale && now - Date.parse(m.scrapedAt) / 1000 < 15,
      );
      const sum = (pick: (m: EngineMetrics) => number | null) =>
        fresh.length === 0 ? null : fresh.reduce((total, m) => total + (pick(m) ?? 0), 0);
      const kv = fresh.length === 0 ? null : Math.max(...fresh.map((m) => m.kvCacheUsagePercent ?? 0));
      const gpus = latestGpu.current?.gpus ?? [];
      const power = gpus.length === 0 ? null : gpus.reduce((total, g) => total + (g.powerDrawW ?? 0), 0);
      setSeries((previous) => {
        const start = previous.t.findIndex((t) => t >= now - WINDOW_S);
        const keep = start < 0 ? previous.t.length : start;
        return {
          t: [...previous.t.slice(keep), now],
          gen: [...previous.gen.slice(keep), sum((m) => m.generationTokensPerSecond)],
          prompt: [...previous.prompt.slice(keep), sum((m) => m.promptTokensPerSecond)],
          kv: [...previous.kv.slice(keep), kv],
          power: [...previous.power.slice(keep), power],
        };
      });
    }, 1000);
    return () => clearInterval(timer);
  }, [latestMetrics, latestGpu]);
  return series;
}

/** The newest lines of one source of a launch's output, and how many it has sent in all. */
interface LineTail {
  count: number;
  lines: string[];
}

interface LaunchState {
  instance: string;
  phase: string;
  percent: number | null;
  /** The engine's output as `launch` events carry it. */
  launchLines: LineTail;
  /** The same output read from the engine's log file (`log` events), which goes on after the launch. */
  logLines: LineTail;
  updatedAt: number;
}

const NO_LINES: LineTail = { count: 0, lines: [] };

function appendLine(tail: LineTail, line: string | undefined): LineTail {
  if (line === undefined || line.trim() === "") return tail;
  return { count: tail.count + 1, lines: [...tail.lines, line].slice(-LOG_LINES) };
}

/**
 * Both sources send the same lines of the engine's log, each at its own pace: show the one that is
 * ahead rather than both (every line twice).
 */
function launchLines(launch: LaunchState): string[] {
  return launch.logLines.count > launch.launchLines.count ? launch.logLines.lines : launch.launchLines.lines;
}

/** The last lines of a launch, kept scrolled to the newest. */
function LogTail({ lines }: { lines: string[] }) {
  const box = useRef<HTMLPreElement>(null);
  const last = lines.at(-1);
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when a new line arrives
  useEffect(() => {
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [last, lines.length]);
  return (
    <pre className="log-tail" ref={box}>
      {lines.join("\n") || "waiting for the engine's output…"}
    </pre>
  );
}

function Launches({ launches, onDismiss }: { launches: LaunchState[]; onDismiss: (name: string) => void }) {
  return (
    <section className="card" aria-labelledby="launches-title">
      <h2 id="launches-title">Launches</h2>
      {launches.length === 0 ? (
        <p className="muted">No launch in progress.</p>
      ) : (
        launches.map((launch) => (
          <div key={launch.instance} className="launch" data-launch={launch.instance}>
            <div className="launch-head">
              <strong>{launch.instance}</strong>
              <span className={statusClass(launch.phase === "ready" ? "ready" : launch.phase)}>
                {launch.phase}
              </span>
              <button
                type="button"
                className="link"
                onClick={() => onDismiss(launch.instance)}
                aria-label={`Dismiss ${launch.instance}`}
              >
                Dismiss
              </button>
            </div>
            <progress
              max={100}
              value={launch.phase === "ready" ? 100 : (launch.percent ?? undefined)}
              aria-label={`${launch.instance} launch progress`}
            />
            <LogTail lines={launchLines(launch)} />
          </div>
        ))
      )}
    </section>
  );
}

function QuickLaunch({ recipes, onLaunched }: { recipes: RecipeEntry[]; onLaunched: () => void }) {
  const [model, setModel] = useState("");
  const [recipeId, setRecipeId] = useState("");
  const [engine, setEngine] = useState("");
  const [threads, setThreads] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const { outcome, watch, clear } = useLaunchOutcome();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    clear();
    try {
      const body: Record<string, string | number> = {};
      if (model.trim()) body.model = model.trim();
      if (recipeId) body.recipeId = recipeId;
      if (engine) body.engine = engine;
      const threadCount = Number.parseInt(threads, 10);
      if (engine === "embedded" && Number.isFinite(threadCount) && threadCount > 0)
        body.threads = threadCount;
      const launched = await api<{ name: string }>("/api/instances", { body });
      watch(launched.name);
      onLaunched();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="quick-title">
      <h2 id="quick-title">Quick launch</h2>
      <form onSubmit={submit} className="form-grid">
        <div className="field">
          <label htmlFor="ql-model">Model</label>
          <input
            id="ql-model"
            value={model}
            onChange={(event) => setModel(event.target.value)}
            placeholder="Qwen/Qwen3-8B or /models/my-model"
            aria-describedby="ql-model-help"
          />
          <small id="ql-model-help" className="muted">
            A Hugging Face id or a path on the studio host (optional with a recipe).
          </small>
        </div>
        <div className="field">
          <label htmlFor="ql-recipe">Recipe (optional)</label>
          <select id="ql-recipe" value={recipeId} onChange={(event) => setRecipeId(event.target.value)}>
            <option value="">Best match for the model</option>
            {recipes
              .filter((r) => !model.trim() || r.recipe.model.toLowerCase() === model.trim().toLowerCase())
              .map((r) => (
                <option key={r.id} value={r.id}>
                  {r.id} ({r.source})
                </option>
              ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="ql-engine">Engine</label>
          <select
            id="ql-engine"
            value={engine}
            onChange={(event) => setEngine(event.target.value)}
            aria-describedby="ql-engine-help"
          >
            <option value="">Automatic (the recipe's, else vLLM)</option>
            <option value="vllm">vLLM</option>
            <option value="sglang">SGLang</option>
            <option value="llamacpp">llama.cpp server</option>
            <option value="embedded">Embedded (llama.cpp in the studio, GGUF on CPU)</option>
          </select>
          <small id="ql-engine-help" className="muted">
            Embedded runs a GGUF file inside the studio, no engine install needed.
          </small>
        </div>
        {engine === "embedded" && (
          <div className="field">
            <label htmlFor="ql-threads">CPU threads</label>
            <input
              id="ql-threads"
              type="number"
              inputMode="numeric"
              min={1}
              max={1024}
              step={1}
              value={threads}
              placeholder="automatic"
              onChange={(event) => setThreads(event.target.value)}
            />
          </div>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || (!model.trim() && !recipeId)}>
            {busy ? "Launching…" : "Launch"}
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {outcome && (
        <p
          role="status"
          className={`quick-status ${outcome.state === "failed" ? "error-text" : "ok-text"}`}
          data-testid="quick-launch-status"
          data-state={outcome.state}
        >
          {outcomeText(outcome)}
        </p>
      )}
    </section>
  );
}

export default function Dashboard() {
  const [instances, setInstances] = useState<PlannedInstance[] | null>(null);
  const [recipes, setRecipes] = useState<RecipeEntry[]>([]);
  const [instancesError, setInstancesError] = useState<unknown>(null);
  const [gpuSample, setGpuSample] = useState<GpuSample | null>(null);
  const [gpuError, setGpuError] = useState<unknown>(null);
  const [launches, setLaunches] = useState<Map<string, LaunchState>>(new Map());
  const latestMetrics = useRef(new Map<string, EngineMetrics>());
  const latestGpu = useRef<GpuSample | null>(null);
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const loadInstances = useCallback(() => {
    api<{ instances: PlannedInstance[] }>("/api/instances")
      .then((body) => {
        setInstances(body.instances);
        setInstancesError(null);
      })
      .catch(setInstancesError);
  }, []);

  const scheduleReload = useCallback(() => {
    if (reloadTimer.current) clearTimeout(reloadTimer.current);
    reloadTimer.current = setTimeout(loadInstances, 150);
  }, [loadInstances]);

  useEffect(() => {
    loadInstances();
    api<{ recipes: RecipeEntry[] }>("/api/recipes")
      .then((body) => setRecipes(body.recipes))
      .catch(() => setRecipes([]));
    api<GpuSample>("/api/gpus")
      .then((sample) => {
        latestGpu.current = sample;
        setGpuSample(sample);
      })
      .catch(setGpuError);
    return () => {
      if (reloadTimer.current) clearTimeout(reloadTimer.current);
    };
  }, [loadInstances]);

  useEvents(["instance", "gpu", "metrics", "launch", "log", "status"], (event: StudioEvent) => {
    switch (event.type) {
      case "instance":
        scheduleReload();
        break;
      case "status":
        if (event.data?.resync) scheduleReload();
        break;
      case "gpu": {
        const sample = event.data as GpuSample;
        if (sample.ok) {
          latestGpu.current = sample;
          setGpuSample(sample);
        }
        break;
      }
      case "metrics": {
        const metrics = event.data as EngineMetrics;
        latestMetrics.current.set(metrics.instance, metrics);
        break;
      }
      case "launch":
      case "log": {
        const data = event.data as LaunchEvent & { line?: string };
        if (!data.instance) break;
        setLaunches((previous) => {
          const current = previous.get(data.instance);
          if (!current && event.type === "log") return previous;
          const next = new Map(previous);
          // a new launch of the instance (a restart) starts a fresh output
          const fresh = event.type === "launch" && data.phase === "preparing";
          const launchTail = fresh ? NO_LINES : (current?.launchLines ?? NO_LINES);
          const logTail = fresh ? NO_LINES : (current?.logLines ?? NO_LINES);
          next.set(data.instance, {
            instance: data.instance,
            phase: event.type === "launch" ? data.phase : (current?.phase ?? "starting"),
            percent: event.type === "launch" ? data.percent : (current?.percent ?? null),
            launchLines: event.type === "launch" ? appendLine(launchTail, data.line) : launchTail,
            logLines: event.type === "log" ? appendLine(logTail, data.line) : logTail,
            updatedAt: Date.now(),
          });
          return next;
        });
        if (event.type === "launch" && (data.phase === "ready" || data.phase === "failed")) scheduleReload();
        break;
      }
    }
  });

  const series = useLiveSeries(latestMetrics, latestGpu);
  const tokens: uPlot.AlignedData = [series.t, series.gen, series.prompt];
  const kv: uPlot.AlignedData = [series.t, series.kv];
  const power: uPlot.AlignedData = [series.t, series.power];
  const lastGen = series.gen.at(-1);

  return (
    <div className="page dashboard">
      <div className="page-head">
        <h1>Dashboard</h1>
        <p className="muted" aria-live="polite">
          {instances === null
            ? ""
            : `${instances.filter((i) => i.status === "ready").length} ready of ${instances.length} instance(s)` +
              (lastGen ? ` · ${formatNumber(lastGen)} tokens/s generated` : "")}
        </p>
      </div>
      <ErrorBox error={instancesError} />
      <Instances instances={instances} recipes={recipes} onChange={loadInstances} />
      <PlanVsActual instances={instances} />
      <Launches
        launches={[...launches.values()].sort((a, b) => b.updatedAt - a.updatedAt)}
        onDismiss={(name) =>
          setLaunches((previous) => {
            const next = new Map(previous);
            next.delete(name);
            return next;
          })
        }
      />
      <section className="card" aria-labelledby="charts-title">
        <h2 id="charts-title">Last 5 minutes</h2>
        <div className="chart-grid">
          <Chart
            title="Tokens per second"
            unit=""
            series={[
              { label: "generation", color: "--chart-1" },
              { label: "prompt", color: "--chart-2" },
            ]}
            data={tokens}
          />
          <Chart
            title="KV cache usage"
            unit="%"
            max={100}
            series={[{ label: "KV cache", color: "--chart-3" }]}
            data={kv}
          />
          <Chart
            title="GPU power (all GPUs)"
            unit=" W"
            series={[{ label: "power", color: "--chart-4" }]}
            data={power}
          />
        </div>
      </section>
      <Gpus sample={gpuSample} error={gpuError} />
      <QuickLaunch recipes={recipes} onLaunched={loadInstances} />
    </div>
  );
}
