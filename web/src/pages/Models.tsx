/** The Models page: models in the Hugging Face cache and local directories, and Hub downloads. */

import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { api } from "../api";
import { ErrorBox } from "../components/ErrorBox";
import { useEvents } from "../events";
import { formatBytes, formatDate } from "../format";
import { ConfirmButton } from "./recipes/ui";
import "./Models.css";

interface CachedModel {
  repo: string;
  path: string;
  sizeBytes: number;
  lastModified: string | null;
  refs: Record<string, string>;
  incompleteBytes: number;
  revisions: { commit: string; refs: string[]; files: number; sizeBytes: number }[];
  hasConfig: boolean;
  ggufFiles: string[];
}

interface LocalModel {
  path: string;
  name: string;
  format: string;
  hasConfig: boolean;
  ggufFiles: string[];
  sizeBytes: number;
}

interface LocalModels {
  hfCache: { dir: string; models: CachedModel[]; warnings: string[] };
  local: { dirs: string[]; models: LocalModel[] };
}

interface Download {
  id: string;
  repo: string;
  revision: string;
  status: string;
  bytesDone: number;
  bytesTotal: number | null;
  error?: string | { message?: string } | null;
  createdAt?: string;
  finishedAt?: string | null;
}

const LIVE = new Set(["queued", "running"]);

function DownloadRow({ job, onCancel }: { job: Download; onCancel: (id: string) => Promise<void> }) {
  const percent = job.bytesTotal ? Math.min(100, (job.bytesDone / job.bytesTotal) * 100) : null;
  const error = typeof job.error === "string" ? job.error : job.error?.message;
  return (
    <li className="download" data-download={job.id}>
      <div className="download-head">
        <strong className="wrap">{job.repo}</strong>
        <span className="muted">{job.revision}</span>
        <span
          className={`badge ${job.status === "done" ? "ok" : job.status === "failed" ? "bad" : LIVE.has(job.status) ? "busy" : ""}`}
          data-testid="download-status"
        >
          {job.status}
        </span>
        {LIVE.has(job.status) && (
          <ConfirmButton
            label={`Cancel ${job.repo}`}
            question="Cancel this download?"
            confirmLabel="Cancel download"
            onConfirm={() => onCancel(job.id)}
          />
        )}
      </div>
      <progress max={100} value={percent ?? undefined} aria-label={`${job.repo} download progress`} />
      <div className="muted download-bytes">
        {formatBytes(job.bytesDone)} of {job.bytesTotal ? formatBytes(job.bytesTotal) : "?"}
        {percent !== null && ` (${percent.toFixed(0)}%)`}
        {job.finishedAt && ` · finished ${formatDate(job.finishedAt)}`}
      </div>
      {error && <div className="error-text">{error}</div>}
    </li>
  );
}

export default function Models() {
  const [models, setModels] = useState<LocalModels | null>(null);
  const [downloads, setDownloads] = useState<Download[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [repo, setRepo] = useState("");
  const [revision, setRevision] = useState("");
  const [include, setInclude] = useState("");
  const [filter, setFilter] = useState("");
  const id = useId();

  const loadModels = useCallback(async () => {
    try {
      setModels(await api<LocalModels>("/api/models/local"));
    } catch (caught) {
      setError(caught);
    }
  }, []);
  const loadDownloads = useCallback(async () => {
    try {
      setDownloads((await api<{ downloads: Download[] }>("/api/downloads")).downloads);
    } catch (caught) {
      setError(caught);
    }
  }, []);
  useEffect(() => {
    void loadModels();
    void loadDownloads();
  }, [loadModels, loadDownloads]);

  // a model deleted (here, in another tab, or over the API): rescan
  useEvents(["model"], () => {
    void loadModels();
  });

  useEvents(["download"], (event) => {
    const job = event.data as Download;
    if (!job?.id) return;
    setDownloads((old) => {
      const index = old.findIndex((item) => item.id === job.id);
      if (index < 0) return [job, ...old];
      const next = [...old];
      next[index] = { ...next[index], ...job } as Download;
      return next;
    });
    if (job.status === "done") void loadModels();
  });

  const start = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const body: Record<string, unknown> = { repo: repo.trim() };
      if (revision.trim()) body.revision = revision.trim();
      const globs = include
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean);
      if (globs.length > 0) body.include = globs;
      const job = await api<Download>("/api/downloads", { body });
      // its events may have come first (a small download can be done already): keep the newer state
      setDownloads((old) => (old.some((item) => item.id === job.id) ? old : [job, ...old]));
      setRepo("");
      setInclude("");
    } catch (caught) {
      setError(caught);
    }
  };

  const cancel = async (jobId: string) => {
    setError(null);
    try {
      await api(`/api/downloads/${jobId}/cancel`, { method: "POST" });
      await loadDownloads();
    } catch (caught) {
      setError(caught);
    }
  };

  /** Deletes a model on disk; the row and the disk usage go at once, a rescan confirms. */
  const remove = async (kind: "hf-cache" | "local", key: string) => {
    setError(null);
    try {
      const query =
        kind === "hf-cache" ? `repo=${encodeURIComponent(key)}` : `name=${encodeURIComponent(key)}`;
      await api(`/api/models/local/${kind === "hf-cache" ? "hf-cache" : "dirs"}?${query}`, {
        method: "DELETE",
      });
      setModels(
        (old) =>
          old && {
            hfCache: {
              ...old.hfCache,
              models:
                kind === "hf-cache" ? old.hfCache.models.filter((m) => m.repo !== key) : old.hfCache.models,
            },
            local: {
              ...old.local,
              models: kind === "local" ? old.local.models.filter((m) => m.name !== key) : old.local.models,
            },
          },
      );
      await loadModels();
    } catch (caught) {
      setError(caught);
    }
  };

  // the API deletes only model directories directly under the studio's models directory (the default)
  const defaultDir = models?.local.dirs.length === 1 ? models.local.dirs[0] : undefined;
  const deletable = (model: LocalModel) =>
    defaultDir !== undefined && model.path === `${defaultDir.replace(/\/$/, "")}/${model.name}`;

  const needle = filter.trim().toLowerCase();
  const cached = (models?.hfCache.models ?? []).filter(
    (m) => !needle || m.repo.toLowerCase().includes(needle),
  );
  const local = (models?.local.models ?? []).filter(
    (m) => !needle || m.name.toLowerCase().includes(needle) || m.path.toLowerCase().includes(needle),
  );
  const cacheBytes = (models?.hfCache.models ?? []).reduce((sum, m) => sum + m.sizeBytes, 0);
  const localBytes = (models?.local.models ?? []).reduce((sum, m) => sum + m.sizeBytes, 0);

  return (
    <section className="models-page">
      <div className="page-head">
        <h1>Models</h1>
        {models && (
          <span className="muted" data-testid="disk-usage">
            {formatBytes(cacheBytes)} in the Hugging Face cache · {formatBytes(localBytes)} in local
            directories
          </span>
        )}
      </div>
      <ErrorBox error={error} />

      <div className="card">
        <h2>Download from the Hub</h2>
        <form className="form-grid" onSubmit={start} aria-label="Download a model">
          <div className="field">
            <label htmlFor={`${id}-repo`}>Model repo</label>
            <input
              id={`${id}-repo`}
              value={repo}
              placeholder="Qwen/Qwen3-8B"
              required
              onChange={(e) => setRepo(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-rev`}>Revision</label>
            <input
              id={`${id}-rev`}
              value={revision}
              placeholder="main"
              onChange={(e) => setRevision(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-include`}>Only files matching</label>
            <input
              id={`${id}-include`}
              value={include}
              placeholder="*Q4_K_M.gguf, *.json"
              onChange={(e) => setInclude(e.target.value)}
            />
          </div>
          <div className="actions">
            <button type="submit" className="primary" disabled={repo.trim() === ""}>
              Download
            </button>
          </div>
        </form>
        {downloads.length > 0 ? (
          <ul className="downloads" aria-label="Downloads">
            {downloads.map((job) => (
              <DownloadRow key={job.id} job={job} onCancel={cancel} />
            ))}
          </ul>
        ) : (
          <p className="muted">No downloads yet.</p>
        )}
      </div>

      <div className="toolbar">
        <div className="field">
          <label htmlFor={`${id}-filter`}>Filter models</label>
          <input
            id={`${id}-filter`}
            type="search"
            value={filter}
            placeholder="repo or name"
            onChange={(e) => setFilter(e.target.value)}
          />
        </div>
        <div className="actions">
          <button type="button" onClick={() => loadModels()}>
            Rescan
          </button>
        </div>
      </div>

      <div className="card">
        <h2>Hugging Face cache</h2>
        {models && <p className="muted wrap">{models.hfCache.dir}</p>}
        {models?.hfCache.warnings.map((warning) => (
          <p key={warning} className="warning">
            {warning}
          </p>
        ))}
        {models && cached.length === 0 && <p className="muted">No cached models{needle ? " match" : ""}.</p>}
        {cached.length > 0 && (
          <div className="table-wrap">
            <table className="stack-table">
              <caption className="visually-hidden">Models in the Hugging Face cache</caption>
              <thead>
                <tr>
                  <th scope="col">Repo</th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col">Revisions</th>
                  <th scope="col">Contents</th>
                  <th scope="col">Modified</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {cached.map((model) => (
                  <tr key={model.path} data-model={model.repo}>
                    <td data-label="Repo" className="wrap">
                      {model.repo}
                    </td>
                    <td data-label="Size" className="num">
                      {formatBytes(model.sizeBytes)}
                      {model.incompleteBytes > 0 && (
                        <div className="warning">{formatBytes(model.incompleteBytes)} incomplete</div>
                      )}
                    </td>
                    <td data-label="Revisions">
                      {model.revisions.map((rev) => (
                        <div key={rev.commit}>
                          <code>{rev.commit.slice(0, 8)}</code> {rev.refs.join(", ")} ({rev.files} files)
                        </div>
                      ))}
                    </td>
                    <td data-label="Contents">
                      {model.hasConfig ? "config.json" : ""}
                      {model.ggufFiles.length > 0 && ` ${model.ggufFiles.length} GGUF`}
                    </td>
                    <td data-label="Modified">{formatDate(model.lastModified)}</td>
                    <td data-label="Actions" className="model-actions">
                      <ConfirmButton
                        label={`Delete ${model.repo}`}
                        question={`Delete ${model.repo} (${formatBytes(model.sizeBytes)}) from the cache?`}
                        confirmLabel="Delete from disk"
                        onConfirm={() => remove("hf-cache", model.repo)}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>

      <div className="card">
        <h2>Local directories</h2>
        {models && <p className="muted wrap">{models.local.dirs.join(", ")}</p>}
        {models && local.length === 0 && <p className="muted">No local models{needle ? " match" : ""}.</p>}
        {local.length > 0 && (
          <div className="table-wrap">
            <table className="stack-table">
              <caption className="visually-hidden">Models in local directories</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Format</th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col">Path</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {local.map((model) => (
                  <tr key={model.path} data-model={model.name}>
                    <td data-label="Name">{model.name}</td>
                    <td data-label="Format">{model.format}</td>
                    <td data-label="Size" className="num">
                      {formatBytes(model.sizeBytes)}
                    </td>
                    <td data-label="Path" className="wrap">
                      <code>{model.path}</code>
                    </td>
                    <td data-label="Actions" className="model-actions">
                      {deletable(model) && (
                        <ConfirmButton
                          label={`Delete ${model.name}`}
                          question={`Delete ${model.name} (${formatBytes(model.sizeBytes)}) from disk?`}
                          confirmLabel="Delete from disk"
                          onConfirm={() => remove("local", model.name)}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <p className="muted">
        Delete removes the model's folder from disk (a cached repo: all its revisions). A model that a running
        instance serves cannot be deleted: stop the instance first.
      </p>
    </section>
  );
}
