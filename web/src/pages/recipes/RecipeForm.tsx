/** Create or edit a studio recipe: validated by the API (per-field messages), with a command preview. */
import { type FormEvent, type ReactNode, useState } from "react";
import { api } from "../../api";
import { ErrorBox } from "../../components/ErrorBox";
import { type FieldError, FieldsError } from "./ui";

export interface RecipeDoc {
  id: string;
  model: string;
  engine?: string;
  engineVersion?: string;
  hardware?: string[];
  gpuCount?: number;
  precision?: string;
  metric?: string;
  engineArgs?: Record<string, unknown>;
  env?: Record<string, string>;
  notes?: string;
  source?: string;
  extraArgs?: string[];
  autoRestart?: boolean;
  onDemand?: boolean;
  idleTtlSeconds?: number | null;
  engineProgram?: string | null;
}

/** The form's state: every input as text, turned into a document on submit. */
interface Draft {
  id: string;
  model: string;
  engine: string;
  engineVersion: string;
  hardware: string;
  gpuCount: string;
  precision: string;
  metric: string;
  tensorParallelSize: string;
  maxModelLen: string;
  gpuMemoryUtilization: string;
  maxNumSeqs: string;
  extraArgs: string;
  env: string;
  notes: string;
  source: string;
  autoRestart: boolean;
  onDemand: boolean;
}

function draftOf(recipe: RecipeDoc | null): Draft {
  const args = recipe?.engineArgs ?? {};
  const text = (value: unknown) => (value === undefined || value === null ? "" : String(value));
  return {
    id: recipe?.id ?? "",
    model: recipe?.model ?? "",
    engine: recipe?.engine ?? "vllm",
    engineVersion: recipe?.engineVersion ?? "",
    hardware: (recipe?.hardware ?? []).join(", "),
    gpuCount: text(recipe?.gpuCount ?? 1),
    precision: recipe?.precision ?? "bf16",
    metric: recipe?.metric ?? "latency",
    tensorParallelSize: text(args.tensorParallelSize),
    maxModelLen: text(args.maxModelLen),
    gpuMemoryUtilization: text(args.gpuMemoryUtilization),
    maxNumSeqs: text(args.maxNumSeqs),
    extraArgs: (recipe?.extraArgs ?? []).join("\n"),
    env: Object.entries(recipe?.env ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join("\n"),
    notes: recipe?.notes ?? "",
    source: recipe?.source ?? "",
    autoRestart: recipe?.autoRestart ?? false,
    onDemand: recipe?.onDemand ?? false,
  };
}

/** A number input's value: a number when it reads as one, else the text (the API names the field). */
function numberOf(text: string): number | string | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

function documentOf(draft: Draft, original: RecipeDoc | null): RecipeDoc {
  const engineArgs: Record<string, unknown> = { ...(original?.engineArgs ?? {}) };
  for (const key of ["tensorParallelSize", "maxModelLen", "gpuMemoryUtilization", "maxNumSeqs"] as const) {
    const value = numberOf(draft[key]);
    if (value === undefined) delete engineArgs[key];
    else engineArgs[key] = value;
  }
  const env: Record<string, string> = {};
  for (const line of draft.env.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    const eq = trimmed.indexOf("=");
    if (eq < 0) env[trimmed] = "";
    else env[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1);
  }
  const doc: RecipeDoc = {
    id: draft.id.trim(),
    model: draft.model.trim(),
    engine: draft.engine,
    hardware: draft.hardware
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== ""),
    precision: draft.precision,
    metric: draft.metric,
    engineArgs,
    env,
    extraArgs: draft.extraArgs
      .split("\n")
      .map((item) => item.trim())
      .filter((item) => item !== ""),
    autoRestart: draft.autoRestart,
    onDemand: draft.onDemand,
  };
  const gpuCount = numberOf(draft.gpuCount);
  if (gpuCount !== undefined) doc.gpuCount = gpuCount as number;
  if (draft.engineVersion.trim() !== "") doc.engineVersion = draft.engineVersion.trim();
  if (draft.notes.trim() !== "") doc.notes = draft.notes;
  if (draft.source.trim() !== "") doc.source = draft.source.trim();
  // fields the form does not show are kept as they are (an edit must not drop them)
  if (original?.idleTtlSeconds !== undefined && original.idleTtlSeconds !== null) {
    doc.idleTtlSeconds = original.idleTtlSeconds;
  }
  if (original?.engineProgram !== undefined && original.engineProgram !== null) {
    doc.engineProgram = original.engineProgram;
  }
  return doc;
}

/** Which input shows a field's message (engineArgs.maxModelLen → maxModelLen …). */
const FIELD_INPUT: Record<string, keyof Draft> = {
  "engineArgs.tensorParallelSize": "tensorParallelSize",
  "engineArgs.maxModelLen": "maxModelLen",
  "engineArgs.gpuMemoryUtilization": "gpuMemoryUtilization",
  "engineArgs.maxNumSeqs": "maxNumSeqs",
};

function inputOf(field: string): string {
  if (FIELD_INPUT[field]) return FIELD_INPUT[field];
  const head = field.split(".")[0] ?? field;
  return head;
}

/** What the API requires of every recipe (core/recipes/recipe.ts): marked in the form. */
const REQUIRED = new Set<keyof Draft>([
  "id",
  "model",
  "engine",
  "engineVersion",
  "hardware",
  "gpuCount",
  "precision",
  "metric",
  "source",
]);

interface GeneratedFile {
  path: string;
  content: string;
}

export function RecipeForm({
  original,
  initial,
  onSaved,
  onCancel,
}: {
  /** null: a new recipe. */
  original: RecipeDoc | null;
  /** A new recipe's starting values (a copy of another recipe). */
  initial?: RecipeDoc | null;
  onSaved: (id: string) => void;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(original ?? initial ?? null));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [valid, setValid] = useState<boolean | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const editing = original !== null;
  const set = (key: keyof Draft) => (value: string | boolean) => {
    setDraft((old) => ({ ...old, [key]: value }));
    setValid(null);
  };

  const byInput = new Map<string, string[]>();
  for (const item of errors) {
    const input = inputOf(item.field);
    byInput.set(input, [...(byInput.get(input) ?? []), item.message]);
  }
  const known = new Set(Object.keys(draft));
  const otherErrors = errors.filter((item) => !known.has(inputOf(item.field)));

  const validate = async (): Promise<boolean> => {
    setError(null);
    const result = await api<{ valid: boolean; errors: FieldError[] }>("/api/recipes/validate", {
      body: documentOf(draft, original),
    });
    setErrors(
      result.errors.map((item) => ({ field: item.field.replace(/^body\./, ""), message: item.message })),
    );
    setValid(result.valid);
    return result.valid;
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const doc = documentOf(draft, original);
      const saved = editing
        ? await api<{ id: string }>(`/api/recipes/${encodeURIComponent(original.id)}`, {
            method: "PUT",
            body: doc,
          })
        : await api<{ id: string }>("/api/recipes", { body: doc });
      setErrors([]);
      onSaved(saved?.id ?? doc.id);
    } catch (caught) {
      if (caught instanceof FieldsError && caught.fields.length > 0) setErrors(caught.fields);
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const runPreview = async () => {
    setPreviewError(null);
    setPreview(null);
    const doc = documentOf(draft, original);
    const args = doc.engineArgs ?? {};
    const body: Record<string, unknown> = { model: doc.model, engine: doc.engine };
    if (doc.hardware?.[0]) body.gpu = doc.hardware[0];
    if (typeof doc.gpuCount === "number") body.gpus = doc.gpuCount;
    if (doc.engineVersion) body.engineVersion = doc.engineVersion;
    // every planner setting the recipe holds, shown in the form or kept from the stored recipe
    for (const key of [
      "tensorParallelSize",
      "pipelineParallelSize",
      "maxModelLen",
      "gpuMemoryUtilization",
      "maxNumSeqs",
      "maxNumBatchedTokens",
      "blockSize",
      "dtype",
      "quantization",
      "kvCacheDtype",
      "enforceEager",
    ]) {
      const value = args[key];
      if (typeof value === "number" || typeof value === "string" || typeof value === "boolean")
        body[key] = value;
    }
    try {
      const result = await api<{ files: GeneratedFile[] }>("/api/generate", { body });
      const serve = result.files.find((file) => file.path.endsWith("serve.sh")) ?? result.files[0];
      let text = serve?.content ?? "(no command)";
      if (doc.extraArgs && doc.extraArgs.length > 0) {
        text += `\n# extra engine flags appended at launch: ${doc.extraArgs.join(" ")}`;
      }
      setPreview(text);
    } catch (caught) {
      setPreviewError(caught);
    }
  };

  const field = (
    key: keyof Draft,
    label: string,
    input: (props: {
      id: string;
      "aria-invalid": boolean;
      "aria-describedby": string | undefined;
      "aria-required": boolean;
    }) => ReactNode,
    help?: string,
    wide = false,
  ) => {
    const messages = byInput.get(key) ?? [];
    const id = `recipe-${key}`;
    const described = [messages.length > 0 ? `${id}-error` : null, help ? `${id}-help` : null]
      .filter(Boolean)
      .join(" ");
    return (
      <div className={`field${wide ? " wide" : ""}${REQUIRED.has(key) ? " required" : ""}`}>
        <label htmlFor={id}>{label}</label>
        {input({
          id,
          "aria-invalid": messages.length > 0,
          "aria-describedby": described || undefined,
          "aria-required": REQUIRED.has(key),
        })}
        {help && (
          <small id={`${id}-help`} className="muted">
            {help}
          </small>
        )}
        {messages.length > 0 && (
          <span id={`${id}-error`} className="field-error" data-field-error={key}>
            {messages.join("; ")}
          </span>
        )}
      </div>
    );
  };
  const text =
    (key: keyof Draft, extra: Record<string, unknown> = {}) =>
    (props: Record<string, unknown>) => (
      <input
        {...props}
        {...extra}
        name={key}
        value={draft[key] as string}
        onChange={(event) => set(key)(event.target.value)}
      />
    );
  const select = (key: keyof Draft, options: string[]) => (props: Record<string, unknown>) => (
    <select {...props} name={key} value={draft[key] as string} onChange={(e) => set(key)(e.target.value)}>
      {options.map((option) => (
        <option key={option} value={option}>
          {option}
        </option>
      ))}
    </select>
  );

  return (
    <form className="card recipe-form" onSubmit={submit} aria-labelledby="recipe-form-title" noValidate>
      <h2 id="recipe-form-title">{editing ? `Edit ${original.id}` : "New recipe"}</h2>
      <p className="muted">
        <span aria-hidden="true">Fields marked * are required.</span>
      </p>
      <ErrorBox error={error} />
      <div className="form-grid">
        {field("id", "Recipe id", text("id", { readOnly: editing }), "a lowercase slug: qwen3-8b-h100-bf16")}
        {field("model", "Model", text("model", { placeholder: "Qwen/Qwen3-8B" }), "a Hugging Face repo id")}
        {field("engine", "Engine", select("engine", ["vllm", "sglang", "llamacpp"]))}
        {field("engineVersion", "Engine version", text("engineVersion", { placeholder: "0.11.0" }))}
        {field(
          "hardware",
          "Hardware",
          text("hardware", { placeholder: "h100-sxm" }),
          "GPU ids, comma-separated",
        )}
        {field("gpuCount", "GPU count", text("gpuCount", { inputMode: "numeric" }))}
        {field(
          "precision",
          "Precision",
          select("precision", ["bf16", "fp16", "fp8", "int8", "int4", "mxfp4"]),
        )}
        {field("metric", "Metric", select("metric", ["latency", "throughput"]))}
        {field(
          "tensorParallelSize",
          "Tensor parallel size",
          text("tensorParallelSize", { inputMode: "numeric" }),
        )}
        {field("maxModelLen", "Max model length", text("maxModelLen", { inputMode: "numeric" }))}
        {field(
          "gpuMemoryUtilization",
          "GPU memory utilization",
          text("gpuMemoryUtilization", { inputMode: "decimal", placeholder: "0.9" }),
        )}
        {field("maxNumSeqs", "Max sequences", text("maxNumSeqs", { inputMode: "numeric" }))}
        {field(
          "extraArgs",
          "Extra engine flags",
          (props) => (
            <textarea
              {...props}
              name="extraArgs"
              rows={3}
              value={draft.extraArgs}
              onChange={(event) => set("extraArgs")(event.target.value)}
            />
          ),
          "one flag per line, e.g. --enable-prefix-caching",
        )}
        {field(
          "env",
          "Environment",
          (props) => (
            <textarea
              {...props}
              name="env"
              rows={3}
              value={draft.env}
              onChange={(event) => set("env")(event.target.value)}
            />
          ),
          "NAME=value per line; never secrets",
        )}
        {field("source", "Source link", text("source", { placeholder: "https://…" }))}
        {field(
          "notes",
          "Notes",
          (props) => (
            <textarea
              {...props}
              name="notes"
              rows={2}
              value={draft.notes}
              onChange={(event) => set("notes")(event.target.value)}
            />
          ),
          undefined,
          true,
        )}
        <fieldset className="wide recipe-flags">
          <legend>Behaviour</legend>
          <label className="check">
            <input
              type="checkbox"
              checked={draft.autoRestart}
              onChange={(event) => set("autoRestart")(event.target.checked)}
            />
            Restart when it dies
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={draft.onDemand}
              onChange={(event) => set("onDemand")(event.target.checked)}
            />
            Start on demand (gateway)
          </label>
        </fieldset>
      </div>
      {otherErrors.length > 0 && (
        <ul className="field-error" aria-label="Other problems">
          {otherErrors.map((item) => (
            <li key={`${item.field}:${item.message}`}>
              <code>{item.field}</code>: {item.message}
            </li>
          ))}
        </ul>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {editing ? "Save changes" : "Create recipe"}
        </button>
        <button type="button" onClick={() => validate().catch(setError)} disabled={busy}>
          Validate
        </button>
        <button type="button" onClick={runPreview} disabled={busy || draft.model.trim() === ""}>
          Preview command
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        {valid === true && (
          <span className="ok-text" role="status">
            Valid
          </span>
        )}
        {valid === false && (
          <span className="error-text" role="status">
            {errors.length} problem{errors.length === 1 ? "" : "s"}
          </span>
        )}
      </div>
      <ErrorBox error={previewError} />
      {preview !== null && (
        <section aria-label="Command preview">
          <h3>Command preview</h3>
          <pre className="code" data-testid="command-preview">
            {preview}
          </pre>
        </section>
      )}
    </form>
  );
}
