/**
 * "Switch…" on an instance row: what to launch instead (a model id or path, and/or a recipe), sent as
 * `POST /api/instances/switch {stop, launch}` — the studio stops the instance and launches the other
 * as one operation. Field errors of a 400 are shown beside their fields, the rest in the error box.
 */
import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from "react";
import { ApiError, api, type FieldError } from "../../api";
import { ErrorBox } from "../../components/ErrorBox";
import type { RecipeEntry } from "../../types";

export interface Switched {
  name: string;
  stopped: string;
}

/** Which input a refused field belongs to (`launch.model` → model); null for the others. */
function inputOf(field: string): "model" | "recipeId" | "name" | null {
  if (field === "launch.model" || field === "launch") return "model";
  if (field === "launch.recipeId") return "recipeId";
  if (field === "launch.name") return "name";
  return null;
}

export function SwitchForm({
  instance,
  currentModel,
  recipes,
  onSwitched,
  onClose,
}: {
  instance: string;
  currentModel: string;
  recipes: RecipeEntry[];
  onSwitched: (switched: Switched) => void;
  onClose: () => void;
}) {
  const [model, setModel] = useState("");
  const [recipeId, setRecipeId] = useState("");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const modelInput = useRef<HTMLInputElement>(null);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    modelInput.current?.focus();
  }, []);

  // after a refusal, the focus goes to the first field it names, else back to the submit button
  // (disabled while the request ran, it lost the focus)
  useEffect(() => {
    if (error === null || !formRef.current) return;
    const target =
      formRef.current.querySelector<HTMLElement>('[aria-invalid="true"]') ??
      formRef.current.querySelector<HTMLElement>('button[type="submit"]');
    target?.focus();
  }, [error]);

  const fields: FieldError[] = error instanceof ApiError ? error.fields : [];
  const messageOf = (input: "model" | "recipeId" | "name") =>
    fields
      .filter((f) => inputOf(f.field) === input)
      .map((f) => f.message)
      .join("; ");
  const others = fields.filter((f) => inputOf(f.field) === null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const launch: Record<string, string> = {};
      if (model.trim()) launch.model = model.trim();
      if (recipeId) launch.recipeId = recipeId;
      if (name.trim()) launch.name = name.trim();
      const started = await api<{ name: string; stopped: string }>("/api/instances/switch", {
        body: { stop: instance, launch },
      });
      onSwitched({ name: started.name, stopped: started.stopped ?? instance });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape" && !busy) {
      event.preventDefault();
      onClose();
    }
  };

  const modelError = messageOf("model");
  const recipeError = messageOf("recipeId");
  const nameError = messageOf("name");
  const wanted = model.trim().toLowerCase();
  return (
    <form
      ref={formRef}
      id="switch-form"
      className="switch-form form-grid"
      onSubmit={submit}
      onKeyDown={onKeyDown}
      aria-labelledby="switch-title"
      data-switch={instance}
    >
      <h3 id="switch-title" className="wide">
        Switch {instance} to…
      </h3>
      <p className="muted wide">
        Stops {instance} (serving {currentModel}) and launches this instead, as one operation.
      </p>
      <div className="field">
        <label htmlFor="sw-model">Model</label>
        <input
          id="sw-model"
          ref={modelInput}
          value={model}
          onChange={(event) => setModel(event.target.value)}
          placeholder="Qwen/Qwen3-4B or /models/my-model"
          aria-invalid={modelError ? true : undefined}
          aria-describedby={modelError ? "sw-model-error sw-model-help" : "sw-model-help"}
        />
        <small id="sw-model-help" className="muted">
          A Hugging Face id or a path on the studio host (optional with a recipe).
        </small>
        {modelError && (
          <small id="sw-model-error" className="error-text">
            {modelError}
          </small>
        )}
      </div>
      <div className="field">
        <label htmlFor="sw-recipe">Recipe (optional)</label>
        <select
          id="sw-recipe"
          value={recipeId}
          onChange={(event) => setRecipeId(event.target.value)}
          aria-invalid={recipeError ? true : undefined}
          aria-describedby={recipeError ? "sw-recipe-error" : undefined}
        >
          <option value="">Best match for the model</option>
          {recipes
            .filter((r) => !wanted || r.recipe.model.toLowerCase() === wanted)
            .map((r) => (
              <option key={r.id} value={r.id}>
                {r.id} ({r.source})
              </option>
            ))}
        </select>
        {recipeError && (
          <small id="sw-recipe-error" className="error-text">
            {recipeError}
          </small>
        )}
      </div>
      <div className="field">
        <label htmlFor="sw-name">New instance name (optional)</label>
        <input
          id="sw-name"
          value={name}
          onChange={(event) => setName(event.target.value)}
          placeholder="from the model"
          aria-invalid={nameError ? true : undefined}
          aria-describedby={nameError ? "sw-name-error" : undefined}
        />
        {nameError && (
          <small id="sw-name-error" className="error-text">
            {nameError}
          </small>
        )}
      </div>
      <div className="actions wide">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Switching…" : `Stop ${instance} and launch`}
        </button>
        <button type="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
      </div>
      <div className="wide">
        <ErrorBox error={error} />
        {others.length > 0 && (
          <ul className="error-text">
            {others.map((f) => (
              <li key={`${f.field}:${f.message}`}>
                {f.field || "request"}: {f.message}
              </li>
            ))}
          </ul>
        )}
      </div>
    </form>
  );
}
