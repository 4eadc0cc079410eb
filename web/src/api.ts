/**
 * The studio's HTTP API, over fetch: JSON in and out, the API key (kept in sessionStorage) sent as a
 * Bearer token, and a 401 answered by asking for the key (the shell's prompt) and retrying.
 */

const KEY_STORAGE = "servepilot.apiKey";

/** One field the API refused: an entry of a 400's `details.fields`. */
export interface FieldError {
  field: string;
  message: string;
}

/** Strips the `body.` / `querystring.` / `params.` prefix the server puts on validation paths. */
export function fieldName(path: string): string {
  return path.replace(/^(body|querystring|params)\./, "");
}

/**
 * The error document every /api route answers with: {error: {code, message, hint?, details?}}; a
 * validation error's `details.fields` come as `fields`, so that forms put each message by its field.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string | null = null,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function getApiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function setApiKey(key: string | null): void {
  try {
    if (key === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    // storage disabled: the key lives for this page only
  }
}

export function authHeaders(): Record<string, string> {
  const key = getApiKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

type KeyListener = (reason: string) => void;
const keyListeners = new Set<KeyListener>();
let pendingKey: Promise<void> | null = null;
let resolveKey: (() => void) | null = null;

/** The shell listens here and shows the key prompt while a request waits for a key. */
export function onKeyRequired(listener: KeyListener): () => void {
  keyListeners.add(listener);
  return () => keyListeners.delete(listener);
}

/** Waits until the user gives a key (every request that met a 401 waits on the same prompt). */
export function requireKey(reason: string): Promise<void> {
  if (!pendingKey) {
    pendingKey = new Promise<void>((resolve) => {
      resolveKey = resolve;
    });
  }
  for (const listener of keyListeners) listener(reason);
  return pendingKey;
}

/** The prompt's answer: stores the key and lets the waiting requests retry. */
export function provideKey(key: string): void {
  setApiKey(key);
  const resolve = resolveKey;
  pendingKey = null;
  resolveKey = null;
  resolve?.();
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as {
      error?: { code?: string; message?: string; hint?: string; details?: { fields?: unknown } };
    };
    if (body.error?.message) {
      const fields = Array.isArray(body.error.details?.fields)
        ? (body.error.details.fields as Array<{ field?: unknown; message?: unknown }>).map((f) => ({
            field: fieldName(String(f.field ?? "")),
            message: String(f.message ?? ""),
          }))
        : [];
      return new ApiError(
        response.status,
        body.error.code ?? "ERROR",
        body.error.message,
        body.error.hint ?? null,
        fields,
      );
    }
  } catch {
    // not JSON
  }
  return new ApiError(response.status, "HTTP_ERROR", `${response.status} ${response.statusText}`.trim());
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
}

/** fetch with the key; a 401 asks for the key and retries (until the user gives a working one). */
export async function apiFetch(
  path: string,
  options: RequestOptions = {},
  accept = "application/json",
): Promise<Response> {
  for (;;) {
    const headers: Record<string, string> = { accept, ...authHeaders() };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(path, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (response.status === 401) {
      const error = await errorOf(response);
      await requireKey(error.message);
      continue;
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }
}

/** A JSON call: the parsed body, or an ApiError carrying the server's code, message and hint. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await apiFetch(path, options);
  const text = await response.text();
  return (text === "" ? null : JSON.parse(text)) as T;
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.hint ? `${error.message} (${error.hint})` : error.message;
  return error instanceof Error ? error.message : String(error);
}
