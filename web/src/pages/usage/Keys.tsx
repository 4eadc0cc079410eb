/** Gateway API keys: create (the secret shown once), list, change limits, revoke. */

import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { api } from "../../api";
import { ErrorBox } from "../../components/ErrorBox";
import { formatDate } from "../../format";
import { ConfirmButton, copyText } from "../recipes/ui";

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scope: string;
  rateLimitPerMinute: number | null;
  tokenQuota: number | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/**
 * A limit field's value: null when empty (no limit), a number when it reads as one, else the text
 * itself, so that the API refuses it by name instead of NaN turning silently into "no limit".
 */
function limitOf(text: string): number | string | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

/** The two limit fields of a key (rate per minute, token quota), in the create and the edit form. */
function LimitFields({
  id,
  rate,
  quota,
  onRate,
  onQuota,
}: {
  id: string;
  rate: string;
  quota: string;
  onRate: (value: string) => void;
  onQuota: (value: string) => void;
}) {
  return (
    <>
      <div className="field">
        <label htmlFor={`${id}-rate`}>Requests per minute</label>
        <input
          id={`${id}-rate`}
          inputMode="numeric"
          value={rate}
          placeholder="no limit"
          onChange={(e) => onRate(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-quota`}>Token quota</label>
        <input
          id={`${id}-quota`}
          inputMode="numeric"
          value={quota}
          placeholder="no quota"
          onChange={(e) => onQuota(e.target.value)}
        />
      </div>
    </>
  );
}

function KeyLimits({ apiKey, onSaved }: { apiKey: ApiKey; onSaved: () => void }) {
  const [name, setName] = useState(apiKey.name);
  const [rate, setRate] = useState(apiKey.rateLimitPerMinute?.toString() ?? "");
  const [quota, setQuota] = useState(apiKey.tokenQuota?.toString() ?? "");
  const [error, setError] = useState<unknown>(null);
  const id = useId();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await api(`/api/keys/${apiKey.id}`, {
        method: "PATCH",
        body: { name: name.trim(), rateLimitPerMinute: limitOf(rate), tokenQuota: limitOf(quota) },
      });
      onSaved();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <form className="key-limits" onSubmit={submit} aria-label={`Limits of ${apiKey.name}`}>
      <ErrorBox error={error} />
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} required />
        </div>
        <LimitFields id={id} rate={rate} quota={quota} onRate={setRate} onQuota={setQuota} />
        <div className="actions">
          <button type="submit" className="primary">
            Save limits
          </button>
        </div>
      </div>
    </form>
  );
}

export function Keys({ onChange, version = 0 }: { onChange?: () => void; version?: number }) {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [name, setName] = useState("");
  const [rate, setRate] = useState("");
  const [quota, setQuota] = useState("");
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [showRevoked, setShowRevoked] = useState(false);
  const id = useId();

  const load = useCallback(async () => {
    try {
      setKeys(await api<ApiKey[]>("/api/keys"));
    } catch (caught) {
      setError(caught);
    }
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the page's Refresh
  useEffect(() => {
    void load();
  }, [load, version]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setCopied(null);
    try {
      const body: Record<string, unknown> = { name: name.trim() };
      if (rate.trim() !== "") body.rateLimitPerMinute = limitOf(rate);
      if (quota.trim() !== "") body.tokenQuota = limitOf(quota);
      setCreated(await api<ApiKey & { key: string }>("/api/keys", { body }));
      setName("");
      setRate("");
      setQuota("");
      await load();
      onChange?.();
    } catch (caught) {
      setError(caught);
    }
  };

  const revoke = async (key: ApiKey) => {
    setError(null);
    try {
      await api(`/api/keys/${key.id}`, { method: "DELETE" });
      if (created?.id === key.id) setCreated(null);
      await load();
      onChange?.();
    } catch (caught) {
      setError(caught);
    }
  };

  const shown = (keys ?? []).filter((key) => showRevoked || key.revokedAt === null);
  const revokedCount = (keys ?? []).filter((key) => key.revokedAt !== null).length;

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>API keys</h2>
      <p className="muted">Gateway keys for /v1 clients. A key's secret is shown once, when it is created.</p>
      <ErrorBox error={error} />
      <form onSubmit={create} className="form-grid" aria-label="Create an API key">
        <div className="field">
          <label htmlFor={`${id}-name`}>Key name</label>
          <input
            id={`${id}-name`}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="who or what uses it"
            required
            maxLength={100}
          />
        </div>
        <LimitFields id={id} rate={rate} quota={quota} onRate={setRate} onQuota={setQuota} />
        <div className="actions">
          <button type="submit" className="primary" disabled={name.trim() === ""}>
            Create key
          </button>
        </div>
      </form>
      {created && (
        <div className="notice new-key" role="status" data-testid="new-key">
          <p>
            Key <strong>{created.name}</strong> created. Copy the secret now: it is not shown again.
          </p>
          <div className="secret-row">
            <code className="secret" data-testid="new-key-secret">
              {created.key}
            </code>
            <button
              type="button"
              onClick={async () =>
                setCopied((await copyText(created.key)) ? "Copied" : "Copy failed: select it")
              }
            >
              Copy key
            </button>
            <button type="button" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
          {copied && <span aria-live="polite">{copied}</span>}
        </div>
      )}
      {keys && keys.length === 0 && <p className="muted">No API keys yet.</p>}
      {shown.length > 0 && (
        <div className="table-wrap">
          <table className="stack-table keys-table">
            <caption className="visually-hidden">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Limits</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((key) => (
                <tr key={key.id} data-key={key.id} data-key-name={key.name}>
                  <td data-label="Name">
                    {key.name}{" "}
                    {key.revokedAt && (
                      <span className="badge bad" title={formatDate(key.revokedAt)}>
                        revoked
                      </span>
                    )}
                    {editing === key.id && (
                      <KeyLimits
                        apiKey={key}
                        onSaved={() => {
                          setEditing(null);
                          void load();
                        }}
                      />
                    )}
                  </td>
                  <td data-label="Prefix">
                    <code>{key.prefix}…</code>
                  </td>
                  <td data-label="Limits">
                    {key.rateLimitPerMinute === null ? "no rate limit" : `${key.rateLimitPerMinute}/min`}
                    <br />
                    {key.tokenQuota === null ? "no quota" : `${key.tokenQuota.toLocaleString()} tokens`}
                  </td>
                  <td data-label="Created">{formatDate(key.createdAt)}</td>
                  <td data-label="Last used">{formatDate(key.lastUsedAt)}</td>
                  <td className="row-actions">
                    {key.revokedAt === null && (
                      <>
                        <button
                          type="button"
                          aria-expanded={editing === key.id}
                          onClick={() => setEditing(editing === key.id ? null : key.id)}
                          aria-label={`Change limits of ${key.name}`}
                        >
                          Limits
                        </button>
                        <ConfirmButton
                          label={`Revoke ${key.name}`}
                          question={`Revoke ${key.name}? Clients using it are refused from now on.`}
                          confirmLabel="Revoke"
                          onConfirm={() => revoke(key)}
                        />
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {revokedCount > 0 && (
        <label className="check">
          <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} />
          Show revoked keys ({revokedCount})
        </label>
      )}
    </section>
  );
}
