/**
 * `/planner`: model + GPUs + workload → plan verdict, memory per GPU, the context-vs-concurrency and
 * throughput-vs-concurrency charts, recommendations, artifacts.
 */
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { Link } from "wouter";
import { api } from "../api";
import { ErrorBox } from "../components/ErrorBox";
import { PlanCharts, type PlanCurvePoint, type TradeoffPoint } from "./planner/PlanCharts";

interface CatalogModel {
  id: string;
  aliases?: string[];
  params?: { total?: number | null } | null;
  maxContext?: number | null;
}

interface CatalogGpu {
  id: string;
  name: string;
  vendor: string;
  memory?: { runtimeGiB?: number | null } | null;
}

/** GET /api/catalog/engines: the releases the planner has data for, per engine. */
interface EngineReleases {
  engine: string;
  defaultVersion: string;
  releases: { id: string; versions: string; earliest: string; notes: string | null }[];
}

interface Range {
  low: number;
  expected: number;
  high: number;
}

interface Plan {
  fits: boolean;
  reasons: string[];
  model: { id: string; params?: { total?: number } };
  hardware: { gpu: string; gpuId?: string | null; count: number; memoryPerGpuGiB: number };
  config: {
    engine: string;
    engineVersion?: string;
    tensorParallelSize: number;
    pipelineParallelSize: number;
    replicas?: number;
    maxModelLen: number;
    gpuMemoryUtilization: number;
    dtype?: string;
    quantization?: string | null;
    kvCacheDtype?: string;
    maxNumSeqs?: number;
  };
  memory: { perGpu: Record<string, number> };
  kvCache?: { tokens: number; maxConcurrency: number };
  performance?: {
    ttftMs?: Range;
    tpotMs?: Range;
    outputTokensPerSecond?: Range;
    curve?: PlanCurvePoint[];
    saturation?: { concurrency: number; reason: string };
  } | null;
  tradeoff?: TradeoffPoint[];
  recommendations: { setting: string; value: string | number | boolean; why: string }[];
  warnings: string[];
  notes: string[];
  artifacts?: { serveCommand?: string };
}

interface GeneratedFile {
  path: string;
  kind: string;
  content: string;
}

interface Form {
  model: string;
  gpu: string;
  gpus: string;
  engine: string;
  engineVersion: string;
  maxModelLen: string;
  concurrency: string;
  promptTokens: string;
  genTokens: string;
  batchingMode: string;
}

const INITIAL: Form = {
  model: "",
  gpu: "",
  gpus: "1",
  engine: "vllm",
  engineVersion: "",
  maxModelLen: "",
  concurrency: "",
  promptTokens: "",
  genTokens: "",
  batchingMode: "",
};

/** The request body shared by /api/plan, /api/generate and /api/recipes/from-plan. */
function planBody(form: Form): Record<string, string | number> {
  const body: Record<string, string | number> = { model: form.model.trim(), engine: form.engine };
  if (form.gpu) body.gpu = form.gpu;
  if (form.engineVersion.trim()) body.engineVersion = form.engineVersion.trim();
  if (form.batchingMode) body.batchingMode = form.batchingMode;
  const numbers: (keyof Form)[] = ["gpus", "maxModelLen", "concurrency", "promptTokens", "genTokens"];
  for (const key of numbers) {
    const value = Number.parseInt(form[key], 10);
    if (Number.isFinite(value) && value > 0) body[key] = value;
  }
  return body;
}

/** The memory segments, in stacking order; whatever else the plan returns is added after them. */
const SEGMENTS: { key: string; label: string }[] = [
  { key: "weightsGiB", label: "Weights" },
  { key: "kvCacheGiB", label: "KV cache" },
  { key: "activationGiB", label: "Activations" },
  { key: "cudaGraphGiB", label: "CUDA graphs" },
  { key: "nonTorchGiB", label: "Overhead" },
];

function segmentsOf(perGpu: Record<string, number>): { key: string; label: string; gib: number }[] {
  const known = SEGMENTS.filter((s) => typeof perGpu[s.key] === "number");
  const extra = Object.keys(perGpu)
    .filter(
      (k) =>
        k.endsWith("GiB") && !["totalGiB", "requestedGiB"].includes(k) && !SEGMENTS.some((s) => s.key === k),
    )
    .map((k) => ({ key: k, label: k.replace(/GiB$/, "") }));
  return [...known, ...extra].map((s) => ({ ...s, gib: perGpu[s.key] ?? 0 }));
}

function MemoryBars({ plan }: { plan: Plan }) {
  const perGpu = plan.memory.perGpu;
  const total = perGpu.totalGiB ?? plan.hardware.memoryPerGpuGiB;
  const segments = segmentsOf(perGpu);
  const used = segments.reduce((sum, s) => sum + s.gib, 0);
  const scale = Math.max(total, used);
  const shown = Math.min(plan.hardware.count, 8);
  return (
    <div className="memory">
      <h3>Memory per GPU</h3>
      <ul className="legend" aria-label="Memory legend">
        {segments.map((s, i) => (
          <li key={s.key}>
            <span className={`swatch seg-${i % 6}`} aria-hidden="true" /> {s.label} {s.gib.toFixed(2)} GiB
          </li>
        ))}
        <li>
          <span className="swatch seg-free" aria-hidden="true" /> Free {(total - used).toFixed(2)} GiB
        </li>
      </ul>
      {Array.from({ length: shown }, (_, index) => `GPU ${index}`).map((gpu) => (
        <div className="memory-row" key={gpu}>
          <span className="memory-gpu">{gpu}</span>
          <div
            className="stack"
            role="img"
            aria-label={`${gpu}: ${segments.map((s) => `${s.label} ${s.gib.toFixed(1)} GiB`).join(", ")} of ${total.toFixed(1)} GiB`}
          >
            {segments.map((s, i) => (
              <div
                key={s.key}
                className={`seg seg-${i % 6}`}
                style={{ width: `${(s.gib / scale) * 100}%` }}
                title={`${s.label}: ${s.gib.toFixed(2)} GiB`}
              />
            ))}
          </div>
          <span className="memory-total">
            {used.toFixed(1)} / {total.toFixed(1)} GiB
          </span>
        </div>
      ))}
      {plan.hardware.count > shown && (
        <p className="muted">…and {plan.hardware.count - shown} more GPUs with the same figures.</p>
      )}
    </div>
  );
}

function Artifacts({ files }: { files: GeneratedFile[] }) {
  const [selected, setSelected] = useState(0);
  const [copied, setCopied] = useState<string | null>(null);
  const file = files[selected] ?? files[0];
  if (!file) return null;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(file.content);
      setCopied(file.path);
    } catch {
      setCopied(null);
    }
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([file.content], { type: "text/plain" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = file.path.split("/").pop() ?? file.path;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <section className="card" aria-labelledby="artifacts-title">
      <h2 id="artifacts-title">Artifacts</h2>
      <div className="tabs" role="tablist" aria-label="Generated files">
        {files.map((f, i) => (
          <button
            key={f.path}
            type="button"
            role="tab"
            id={`tab-${i}`}
            aria-selected={i === selected}
            aria-controls="artifact-panel"
            onClick={() => {
              setSelected(i);
              setCopied(null);
            }}
          >
            {f.path}
          </button>
        ))}
      </div>
      <div id="artifact-panel" role="tabpanel" aria-labelledby={`tab-${selected}`}>
        <div className="actions">
          <button type="button" onClick={copy}>
            Copy
          </button>
          <button type="button" onClick={download}>
            Download {file.path}
          </button>
          {copied === file.path && (
            <span role="status" className="ok-text">
              Copied
            </span>
          )}
        </div>
        <pre className="code">{file.content}</pre>
      </div>
    </section>
  );
}

function range(value: Range | undefined, unit: string): string {
  return value
    ? `${value.expected.toFixed(value.expected < 100 ? 1 : 0)} ${unit} (${value.low.toFixed(1)}–${value.high.toFixed(1)})`
    : "–";
}

export default function Planner() {
  const [form, setForm] = useState<Form>(INITIAL);
  const [models, setModels] = useState<CatalogModel[]>([]);
  const [gpus, setGpus] = useState<CatalogGpu[]>([]);
  const [detected, setDetected] = useState<string | null>(null);
  const [engines, setEngines] = useState<EngineReleases[]>([]);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [planned, setPlanned] = useState<Record<string, string | number> | null>(null);
  const [files, setFiles] = useState<GeneratedFile[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [launched, setLaunched] = useState<string | null>(null);

  useEffect(() => {
    api<{ models: CatalogModel[] }>("/api/catalog/models")
      .then((body) => setModels(body.models))
      .catch(() => setModels([]));
    api<{ gpus: CatalogGpu[] }>("/api/catalog/gpus")
      .then((body) => setGpus(body.gpus))
      .catch(() => setGpus([]));
    api<{ engines: EngineReleases[] }>("/api/catalog/engines")
      .then((body) => setEngines(body.engines))
      .catch(() => setEngines([]));
    api<{ ok: boolean; gpus: { name: string }[] }>("/api/gpus")
      .then((body) => {
        const first = body.gpus[0];
        setDetected(first ? `${body.gpus.length} × ${first.name}` : null);
      })
      .catch(() => setDetected(null));
  }, []);

  const releases = engines.find((e) => e.engine === form.engine);

  const matches = useMemo(() => {
    const query = form.model.trim().toLowerCase();
    if (query.length < 2) return [];
    return models
      .filter(
        (m) => m.id.toLowerCase().includes(query) || m.aliases?.some((a) => a.toLowerCase().includes(query)),
      )
      .slice(0, 8);
  }, [form.model, models]);

  const set = (key: keyof Form) => (event: { target: { value: string } }) =>
    setForm((previous) => ({ ...previous, [key]: event.target.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = planBody(form);
    setBusy("plan");
    setError(null);
    setSaved(null);
    setLaunched(null);
    setFiles(null);
    try {
      const result = await api<Plan>("/api/plan", { body });
      setPlan(result);
      setPlanned(body);
      api<{ files: GeneratedFile[] }>("/api/generate", { body })
        .then((generated) => setFiles(generated.files))
        .catch(() => setFiles([]));
    } catch (e) {
      setPlan(null);
      setPlanned(null);
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const saveRecipe = async () => {
    if (!planned) return;
    setBusy("save");
    setError(null);
    try {
      const result = await api<{ recipe: { id: string } }>("/api/recipes/from-plan", { body: planned });
      setSaved(result.recipe.id);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const launch = async () => {
    if (!planned || !plan) return;
    setBusy("launch");
    setError(null);
    try {
      const body: Record<string, string | number> = saved
        ? { recipeId: saved }
        : {
            model: String(planned.model),
            gpuCount: plan.hardware.count,
            maxModelLen: plan.config.maxModelLen,
            gpuMemoryUtilization: plan.config.gpuMemoryUtilization,
            ...(plan.config.engine === "vllm" ||
            plan.config.engine === "sglang" ||
            plan.config.engine === "llamacpp"
              ? { engine: plan.config.engine }
              : {}),
          };
      const result = await api<{ name: string }>("/api/instances", { body });
      setLaunched(result.name);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="page planner">
      <h1>Planner</h1>
      <form className="card form-grid" onSubmit={submit} aria-label="Plan a deployment">
        <div className="field wide">
          <label htmlFor="pl-model">Model</label>
          <input
            id="pl-model"
            list="pl-models"
            value={form.model}
            onChange={set("model")}
            placeholder="Search the catalog, or a Hugging Face id / local path"
            autoComplete="off"
            required
          />
          <datalist id="pl-models">
            {models.map((m) => (
              <option key={m.id} value={m.id} />
            ))}
          </datalist>
          {matches.length > 0 && !matches.some((m) => m.id === form.model) && (
            <ul className="suggestions" aria-label="Catalog models">
              {matches.map((m) => (
                <li key={m.id}>
                  <button
                    type="button"
                    className="link"
                    onClick={() => setForm((f) => ({ ...f, model: m.id }))}
                  >
                    {m.id}
                  </button>
                  {m.params?.total ? (
                    <span className="muted"> {(m.params.total / 1e9).toFixed(1)}B</span>
                  ) : null}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="field">
          <label htmlFor="pl-gpu">GPU</label>
          <select id="pl-gpu" value={form.gpu} onChange={set("gpu")}>
            <option value="">{detected ? `Detected: ${detected}` : "Detected on the studio host"}</option>
            {gpus.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
                {g.memory?.runtimeGiB ? ` (${g.memory.runtimeGiB} GiB)` : ""}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="pl-count">GPU count</label>
          <input id="pl-count" type="number" min={1} max={4096} value={form.gpus} onChange={set("gpus")} />
        </div>
        <div className="field">
          <label htmlFor="pl-engine">Engine</label>
          <select id="pl-engine" value={form.engine} onChange={set("engine")}>
            <option value="vllm">vLLM</option>
            <option value="sglang">SGLang</option>
            <option value="llamacpp">llama.cpp</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="pl-engine-version">Engine version</label>
          <input
            id="pl-engine-version"
            value={form.engineVersion}
            onChange={set("engineVersion")}
            placeholder={releases ? releases.defaultVersion : "newest known"}
            maxLength={40}
            autoComplete="off"
            spellCheck={false}
            list="pl-engine-versions"
            aria-describedby="pl-engine-version-hint"
          />
          <datalist id="pl-engine-versions">
            {releases?.releases.map((r) => (
              <option key={r.id} value={r.earliest}>
                {r.versions}
              </option>
            ))}
          </datalist>
          <small id="pl-engine-version-hint" className="muted">
            {releases
              ? `Optional: the release to model (default ${releases.defaultVersion}; data from ${
                  releases.releases.at(-1)?.earliest ?? "?"
                } on).`
              : "Optional: the release to model, e.g. 0.11.0 (vLLM) or b6981 (llama.cpp)."}
          </small>
        </div>
        <fieldset className="wide workload">
          <legend>Workload</legend>
          <div className="field">
            <label htmlFor="pl-ctx">Context length</label>
            <input
              id="pl-ctx"
              type="number"
              min={1}
              placeholder="model max"
              value={form.maxModelLen}
              onChange={set("maxModelLen")}
            />
          </div>
          <div className="field">
            <label htmlFor="pl-conc">Concurrency</label>
            <input
              id="pl-conc"
              type="number"
              min={1}
              placeholder="1"
              value={form.concurrency}
              onChange={set("concurrency")}
            />
          </div>
          <div className="field">
            <label htmlFor="pl-prompt">Prompt tokens</label>
            <input
              id="pl-prompt"
              type="number"
              min={1}
              placeholder="1024"
              value={form.promptTokens}
              onChange={set("promptTokens")}
            />
          </div>
          <div className="field">
            <label htmlFor="pl-gen">Output tokens</label>
            <input
              id="pl-gen"
              type="number"
              min={1}
              placeholder="256"
              value={form.genTokens}
              onChange={set("genTokens")}
            />
          </div>
          <div className="field">
            <label htmlFor="pl-mode">Batching mode</label>
            <select
              id="pl-mode"
              value={form.batchingMode}
              onChange={set("batchingMode")}
              aria-describedby="pl-mode-hint"
            >
              <option value="">Default (balanced)</option>
              <option value="latency">Latency</option>
              <option value="throughput">Throughput</option>
              <option value="balanced">Balanced</option>
            </select>
            <small id="pl-mode-hint" className="muted">
              Latency caps the batch at the concurrency; throughput lets the KV cache fill.
            </small>
          </div>
        </fieldset>
        <div className="actions wide">
          <button type="submit" className="primary" disabled={busy !== null || form.model.trim() === ""}>
            {busy === "plan" ? "Planning…" : "Plan"}
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {plan && (
        <>
          <section className="card" aria-labelledby="verdict-title">
            <h2 id="verdict-title">
              Verdict:{" "}
              <span className={plan.fits ? "badge ok" : "badge bad"} data-testid="verdict">
                {plan.fits ? "fits" : "does not fit"}
              </span>
            </h2>
            <p>
              {plan.model.id} on {plan.hardware.count} × {plan.hardware.gpu} ({plan.hardware.memoryPerGpuGiB}{" "}
              GiB each) with {plan.config.engine} {plan.config.engineVersion ?? ""}
            </p>
            <ul>
              {plan.reasons.map((reason) => (
                <li key={reason}>{reason}</li>
              ))}
            </ul>
            <dl className="facts">
              <div>
                <dt>Parallelism</dt>
                <dd>
                  TP {plan.config.tensorParallelSize} · PP {plan.config.pipelineParallelSize}
                  {plan.config.replicas && plan.config.replicas > 1
                    ? ` · ${plan.config.replicas} replicas`
                    : ""}
                </dd>
              </div>
              <div>
                <dt>Context</dt>
                <dd>{plan.config.maxModelLen.toLocaleString()} tokens</dd>
              </div>
              <div>
                <dt>KV cache</dt>
                <dd>
                  {plan.kvCache
                    ? `${plan.kvCache.tokens.toLocaleString()} tokens · ${plan.kvCache.maxConcurrency} full requests`
                    : "–"}
                </dd>
              </div>
              <div>
                <dt>TTFT</dt>
                <dd>{range(plan.performance?.ttftMs, "ms")}</dd>
              </div>
              <div>
                <dt>TPOT</dt>
                <dd>{range(plan.performance?.tpotMs, "ms")}</dd>
              </div>
              <div>
                <dt>Output</dt>
                <dd>{range(plan.performance?.outputTokensPerSecond, "tokens/s")}</dd>
              </div>
            </dl>
            <MemoryBars plan={plan} />
            {plan.artifacts?.serveCommand && (
              <>
                <h3>Serve command</h3>
                <pre className="code">{plan.artifacts.serveCommand}</pre>
              </>
            )}
            <div className="actions">
              <button type="button" onClick={saveRecipe} disabled={busy !== null || !plan.fits}>
                {busy === "save" ? "Saving…" : "Save as recipe"}
              </button>
              <button
                type="button"
                className="primary"
                onClick={launch}
                disabled={busy !== null || !plan.fits}
              >
                {busy === "launch" ? "Launching…" : "Launch"}
              </button>
            </div>
            {saved && (
              <p role="status" className="ok-text" data-testid="saved-recipe">
                Saved as recipe <code>{saved}</code>: see <Link href="/recipes">Recipes</Link>.
              </p>
            )}
            {launched && (
              <p role="status" className="ok-text">
                Launching <code>{launched}</code>: follow it on the <Link href="/">dashboard</Link>.
              </p>
            )}
          </section>
          <PlanCharts
            tradeoff={plan.tradeoff ?? []}
            curve={plan.performance?.curve ?? []}
            saturation={plan.performance?.saturation ?? null}
            plannedContext={plan.config.maxModelLen}
            plannedConcurrency={plan.kvCache?.maxConcurrency ?? null}
            fits={plan.fits}
            requestedConcurrency={typeof planned?.concurrency === "number" ? planned.concurrency : 1}
          />
          <section className="card" aria-labelledby="recs-title">
            <h2 id="recs-title">Recommendations</h2>
            {plan.recommendations.length === 0 && plan.warnings.length === 0 && plan.notes.length === 0 ? (
              <p className="muted">None: the defaults suit this workload.</p>
            ) : (
              <ul className="recommendations">
                {plan.recommendations.map((r) => (
                  <li key={r.setting}>
                    <code>
                      {r.setting} = {String(r.value)}
                    </code>
                    : {r.why}
                  </li>
                ))}
                {plan.warnings.map((w) => (
                  <li key={w} className="warning">
                    Warning: {w}
                  </li>
                ))}
                {plan.notes.map((n) => (
                  <li key={n} className="muted">
                    {n}
                  </li>
                ))}
              </ul>
            )}
          </section>
          {files === null ? <p className="muted">Rendering artifacts…</p> : <Artifacts files={files} />}
        </>
      )}
    </div>
  );
}
