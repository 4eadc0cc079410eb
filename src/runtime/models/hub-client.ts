/**
 * The fetch handed to @huggingface/hub and @huggingface/gguf. It adds what those libraries do not:
 * a per-request timeout, the caller's cancel signal, the token (for the Hub's own origin only),
 * and it remembers the Hub's X-Error-Code / X-Error-Message / X-Repo-Commit headers, which the
 * libraries' errors drop but which tell a gated repo from a missing one.
 *
 * The token goes in as a header rather than the libraries' `accessToken` option because that
 * option refuses tokens that do not start with "hf_" (mirrors behind HF_ENDPOINT use others).
 */

/** An HTTP error answer, thrown by `strictFetch` (the GGUF reader does not check statuses itself). */
export class HubHttpError extends Error {
  override readonly name = "HubHttpError";
  constructor(
    readonly url: string,
    readonly status: number,
    readonly errorCode: string | null,
    readonly serverMessage: string | null,
  ) {
    super(`HTTP ${status}${serverMessage ? `: ${serverMessage}` : ""} (${url})`);
  }
}

export interface HubErrorHeaders {
  status: number;
  errorCode: string | null;
  serverMessage: string | null;
}

export interface HubClient {
  /** For @huggingface/hub: adds auth and deadline, records error headers, returns every answer. */
  readonly fetch: typeof fetch;
  /** For @huggingface/gguf: like `fetch`, but throws HubHttpError on a non-2xx answer. */
  readonly strictFetch: typeof fetch;
  /** Error headers the Hub sent for a URL (as requested or as finally answered). */
  errorFor(url: string): HubErrorHeaders | undefined;
  /** The commit the Hub said it served (X-Repo-Commit), if any answer carried one. */
  readonly servedCommit: () => string | null;
}

export interface HubClientOptions {
  hubUrl: string;
  token: string | null;
  timeoutMs: number;
  baseFetch: typeof fetch;
  signal: AbortSignal | undefined;
}

function requestUrl(input: Parameters<typeof fetch>[0]): string {
  if (typeof input === "string") return input;
  return input instanceof URL ? input.href : input.url;
}

export function createHubClient(options: HubClientOptions): HubClient {
  const hubOrigin = new URL(options.hubUrl).origin;
  const errors = new Map<string, HubErrorHeaders>();
  let commit: string | null = null;

  const send: typeof fetch = async (input, init) => {
    const url = requestUrl(input);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (options.token && new URL(url).origin === hubOrigin && !headers.has("authorization")) {
      headers.set("authorization", `Bearer ${options.token}`);
    }
    const signals = [AbortSignal.timeout(options.timeoutMs)];
    if (options.signal) signals.push(options.signal);
    if (init?.signal) signals.push(init.signal);
    const response = await options.baseFetch(input, { ...init, headers, signal: AbortSignal.any(signals) });
    commit = response.headers.get("x-repo-commit") ?? commit;
    if (!response.ok) {
      const info: HubErrorHeaders = {
        status: response.status,
        errorCode: response.headers.get("x-error-code"),
        serverMessage: response.headers.get("x-error-message"),
      };
      errors.set(url, info);
      if (response.url) errors.set(response.url, info);
    }
    return response;
  };

  const strictFetch: typeof fetch = async (input, init) => {
    const response = await send(input, init);
    if (!response.ok) {
      const info = errors.get(requestUrl(input));
      await response.body?.cancel();
      throw new HubHttpError(
        requestUrl(input),
        response.status,
        info?.errorCode ?? null,
        info?.serverMessage ?? null,
      );
    }
    return response;
  };

  return {
    fetch: send,
    strictFetch,
    errorFor: (url) => errors.get(url),
    servedCommit: () => commit,
  };
}
