/**
 * The fetch used for blob downloads: the answer's headers must arrive within `timeoutMs`, but the
 * body may then take as long as the file needs (a plain AbortSignal.timeout would cut a large file
 * off mid-way).
 */
export function createDownloadFetch(baseFetch: typeof fetch, timeoutMs: number): typeof fetch {
  return async (input, init) => {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")),
      timeoutMs,
    );
    const signals = [deadline.signal];
    if (init?.signal) signals.push(init.signal);
    try {
      return await baseFetch(input, { ...init, signal: AbortSignal.any(signals) });
    } finally {
      clearTimeout(timer);
    }
  };
}
