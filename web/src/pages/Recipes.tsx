/** The Recipes page: every recipe (studio, file, built-in), search, create / edit, import / export, launch. */
import { useCallback, useEffect, useId, useMemo, useRef, useState } from "react";
import { Link } from "wouter";
import { api } from "../api";
import { ErrorBox } from "../components/ErrorBox";
import { useEvents } from "../events";
import { statusClass } from "../format";
import type { Instance } from "../types";
import { type RecipeDoc, RecipeForm } from "./recipes/RecipeForm";
import { ConfirmButton, downloadFrom, FieldsError } from "./recipes/ui";
import "./Recipes.css";

interface RecipeRow {
  id: string;
  source: "studio" | "builtin" | "file";
  file: string | null;
  recipe: RecipeDoc;
  createdAt: string | null;
  updatedAt: string | null;
}

const SOURCE_LABEL: Record<string, string> = { studio: "stored", file: "file", builtin: "built-in" };

/** Instances that hold GPUs or are on their way, in the order a status cell names them. */
const LIVE = ["ready", "starting", "stopping", "failed", "crashed"];

/** What the instances launched from this recipe are doing: "ready (qwen3-8b)", or null when none live. */
function recipeStatus(instances: Instance[], id: string): { text: string; status: string } | null {
  const mine = instances
    .filter((i) => i.recipeId === id && LIVE.includes(i.status))
    .sort((a, b) => LIVE.indexOf(a.status) - LIVE.indexOf(b.status));
  const first = mine[0];
  if (!first) return null;
  const more = mine.length > 1 ? ` +${mine.length - 1}` : "";
  return { text: `${first.status} (${first.name}${more})`, status: first.status };
}

function RecipeStatus({
  live,
  onDemand,
}: {
  live: { text: string; status: string } | null;
  onDemand: boolean;
}) {
  return (
    <>
      {live ? (
        <span className={statusClass(live.status)}>{live.text}</span>
      ) : (
        <span className="muted">not running</span>
      )}
      {onDemand && (
        <>
          {" "}
          <span className="badge">on demand</span>
        </>
      )}
    </>
  );
}

export default function Recipes() {
  const [rows, setRows] = useState<RecipeRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [search, setSearch] = useState("");
  const [source, setSource] = useState("");
  const [editing, setEditing] = useState<{ original: RecipeDoc | null; initial: RecipeDoc | null } | null>(
    null,
  );
  const [notice, setNotice] = useState<{ text: string; instance?: string } | null>(null);
  const [importReplace, setImportReplace] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const searchId = useId();
  const sourceId = useId();
  const importId = useId();

  const [instances, setInstances] = useState<Instance[]>([]);

  const load = useCallback(async () => {
    try {
      const result = await api<{ recipes: RecipeRow[] }>("/api/recipes");
      setRows(result.recipes);
    } catch (caught) {
      setError(caught);
    }
  }, []);
  const loadInstances = useCallback(() => {
    api<{ instances: Instance[] }>("/api/instances").then(
      (result) => setInstances(result.instances),
      () => {}, // the status column stays as it was; the recipes themselves still show
    );
  }, []);
  useEffect(() => {
    void load();
    loadInstances();
  }, [load, loadInstances]);
  useEvents(["instance"], loadInstances);

  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (rows ?? []).filter((row) => {
      if (source && row.source !== source) return false;
      if (!needle) return true;
      const r = row.recipe;
      return [row.id, r.model, r.engine, r.precision, r.metric, ...(r.hardware ?? [])]
        .filter(Boolean)
        .some((value) => String(value).toLowerCase().includes(needle));
    });
  }, [rows, search, source]);

  const counts = useMemo(() => {
    const result: Record<string, number> = { studio: 0, file: 0, builtin: 0 };
    for (const row of rows ?? []) result[row.source] = (result[row.source] ?? 0) + 1;
    return result;
  }, [rows]);

  const remove = async (id: string) => {
    setError(null);
    try {
      await api(`/api/recipes/${encodeURIComponent(id)}`, { method: "DELETE" });
      setNotice({ text: `Deleted ${id}.` });
      await load();
    } catch (caught) {
      setError(caught);
    }
  };

  const launch = async (id: string) => {
    setError(null);
    try {
      const result = await api<{ name: string }>("/api/instances", { body: { recipeId: id } });
      setNotice({ text: `Launching ${id} as ${result.name}.`, instance: result.name });
    } catch (caught) {
      setError(caught);
    }
  };

  const importFile = async (file: File) => {
    setError(null);
    try {
      const text = await file.text();
      const format = /\.json$/i.test(file.name) ? "json" : "yaml";
      // a refusal names the entries (entries.N.id …): FieldsError carries them to the list below
      const result = await api<{ imported?: unknown[]; count?: number } | null>(
        `/api/recipes/import?format=${format}&replace=${importReplace}`,
        { method: "POST", body: text },
      );
      const count = result?.count ?? (Array.isArray(result?.imported) ? result.imported.length : undefined);
      setNotice({ text: `Imported ${count ?? "the"} recipe${count === 1 ? "" : "s"} from ${file.name}.` });
      await load();
    } catch (caught) {
      setError(caught);
    } finally {
      if (fileInput.current) fileInput.current.value = "";
    }
  };

  const exportAs = async (format: "yaml" | "json") => {
    setError(null);
    try {
      const name = await downloadFrom(`/api/recipes/export?format=${format}`, `recipes.${format}`);
      setNotice({ text: `Exported the stored recipes as ${name}.` });
    } catch (caught) {
      setError(caught);
    }
  };

  if (editing !== null) {
    return (
      <section className="recipes-page">
        <div className="page-head">
          <h1>Recipes</h1>
        </div>
        <RecipeForm
          original={editing.original}
          initial={editing.initial}
          onCancel={() => setEditing(null)}
          onSaved={(id) => {
            setEditing(null);
            setSearch("");
            setNotice({ text: `Saved ${id}.` });
            void load();
          }}
        />
      </section>
    );
  }

  return (
    <section className="recipes-page">
      <div className="page-head">
        <h1>Recipes</h1>
        <span className="muted">
          {rows ? `${counts.studio} stored · ${counts.file} file · ${counts.builtin} built-in` : "Loading…"}
        </span>
      </div>
      {notice && (
        <div className="notice" role="status">
          {notice.text} {notice.instance && <Link href={`~/logs/${notice.instance}`}>Follow its log</Link>}{" "}
          <button type="button" className="link" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      )}
      <ErrorBox error={error} />
      {error instanceof FieldsError && error.fields.length > 0 && (
        <ul className="field-error">
          {error.fields.map((item) => (
            <li key={`${item.field}:${item.message}`}>
              <code>{item.field}</code>: {item.message}
            </li>
          ))}
        </ul>
      )}
      <div className="card">
        <div className="toolbar">
          <div className="field">
            <label htmlFor={searchId}>Search recipes</label>
            <input
              id={searchId}
              type="search"
              value={search}
              placeholder="id, model, engine, GPU"
              onChange={(event) => setSearch(event.target.value)}
            />
          </div>
          <div className="field narrow">
            <label htmlFor={sourceId}>Source</label>
            <select id={sourceId} value={source} onChange={(event) => setSource(event.target.value)}>
              <option value="">all</option>
              <option value="studio">stored</option>
              <option value="file">file</option>
              <option value="builtin">built-in</option>
            </select>
          </div>
          <div className="actions">
            <button
              type="button"
              className="primary"
              onClick={() => setEditing({ original: null, initial: null })}
            >
              New recipe
            </button>
            <button type="button" onClick={() => exportAs("yaml")}>
              Export YAML
            </button>
            <button type="button" onClick={() => exportAs("json")}>
              Export JSON
            </button>
          </div>
        </div>
        <div className="toolbar import-row">
          <div className="field">
            <label htmlFor={importId}>Import recipes (YAML or JSON file)</label>
            <input
              ref={fileInput}
              id={importId}
              type="file"
              accept=".yaml,.yml,.json,application/json,text/yaml"
              onChange={(event) => {
                const file = event.target.files?.[0];
                if (file) void importFile(file);
              }}
            />
          </div>
          <label className="check">
            <input
              type="checkbox"
              checked={importReplace}
              onChange={(event) => setImportReplace(event.target.checked)}
            />
            Replace stored recipes with the same id
          </label>
        </div>
      </div>
      {rows && (
        <div className="table-wrap">
          <table className="stack-table recipes-table">
            <caption className="visually-hidden">Recipes</caption>
            <thead>
              <tr>
                <th scope="col">Recipe</th>
                <th scope="col">Model</th>
                <th scope="col">Engine</th>
                <th scope="col">GPUs</th>
                <th scope="col">Precision</th>
                <th scope="col">Source</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((row) => (
                <tr key={row.id} data-recipe={row.id}>
                  <td data-label="Recipe" className="wrap">
                    <code>{row.id}</code>
                    {row.recipe.notes && <div className="muted recipe-notes">{row.recipe.notes}</div>}
                  </td>
                  <td data-label="Model" className="wrap">
                    {row.recipe.model}
                  </td>
                  <td data-label="Engine">
                    {row.recipe.engine ?? "–"} {row.recipe.engineVersion ?? ""}
                  </td>
                  <td data-label="GPUs">
                    {row.recipe.gpuCount ?? "–"} × {(row.recipe.hardware ?? []).join(", ") || "any"}
                  </td>
                  <td data-label="Precision">
                    {row.recipe.precision ?? "–"} {row.recipe.metric ? `· ${row.recipe.metric}` : ""}
                  </td>
                  <td data-label="Source">
                    <span className={`badge source-${row.source}`}>
                      {SOURCE_LABEL[row.source] ?? row.source}
                    </span>
                  </td>
                  <td data-label="Status" data-testid="recipe-status">
                    <RecipeStatus
                      live={recipeStatus(instances, row.id)}
                      onDemand={row.recipe.onDemand === true}
                    />
                  </td>
                  <td className="row-actions">
                    <button type="button" onClick={() => launch(row.id)} aria-label={`Launch ${row.id}`}>
                      Launch
                    </button>
                    {row.source === "studio" ? (
                      <>
                        <button
                          type="button"
                          onClick={() => setEditing({ original: row.recipe, initial: null })}
                          aria-label={`Edit ${row.id}`}
                        >
                          Edit
                        </button>
                        <ConfirmButton
                          label={`Delete ${row.id}`}
                          question={`Delete ${row.id}?`}
                          confirmLabel="Delete"
                          onConfirm={() => remove(row.id)}
                        />
                      </>
                    ) : (
                      <button
                        type="button"
                        onClick={() =>
                          setEditing({ original: null, initial: { ...row.recipe, id: `${row.id}-copy` } })
                        }
                        aria-label={`Copy ${row.id} to a new recipe`}
                      >
                        Copy
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {shown.length === 0 && <p className="muted">No recipe matches.</p>}
        </div>
      )}
    </section>
  );
}
