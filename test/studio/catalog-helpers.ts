/**
 * Helpers for the studio catalog and recipe tests: a valid recipe document, a tiny SSE reader over
 * fetch, polling, and a Hugging Face cache laid out as huggingface_hub leaves it.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** A studio recipe document that passes every check (Qwen3-8B on one H100, as a built-in recipe). */
export function validRecipe(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "my-qwen3-8b-h100",
    model: "Qwen/Qwen3-8B",
    engine: "vllm",
    engineVersion: "0.11.0",
    hardware: ["h100-sxm"],
    gpuCount: 1,
    precision: "bf16",
    metric: "throughput",
    engineArgs: { maxModelLen: 32768, maxNumSeqs: 128 },
    env: { VLLM_LOGGING_LEVEL: "DEBUG" },
    source: "https://docs.vllm.ai/projects/recipes/en/latest/Qwen/Qwen3.html",
    extraArgs: ["--enable-prefix-caching"],
    autoRestart: true,
    ...overrides,
  };
}

export interface SseEvent {
  id: string | null;
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests navigate event payloads freely
  data: any;
}

/** Connects to /api/events and collects events until `close()`. */
export async function openEvents(
  url: string,
  types?: string,
): Promise<{ events: SseEvent[]; close(): void }> {
  const abort = new AbortController();
  const response = await fetch(`${url}/api/events${types ? `?types=${types}` : ""}`, {
    signal: abort.signal,
  });
  if (!response.ok || !response.body) throw new Error(`/api/events answered ${response.status}`);
  const events: SseEvent[] = [];
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(":")) continue; // heartbeat
        const fields = new Map<string, string>();
        for (const line of block.split("\n")) {
          const colon = line.indexOf(":");
          fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
        }
        const data = fields.get("data");
        if (data === undefined) continue;
        events.push({
          id: fields.get("id") ?? null,
          event: fields.get("event") ?? "message",
          data: JSON.parse(data),
        });
      }
    }
  })();
  return { events, close: () => abort.abort() };
}

/** Polls until `check` holds (the timeout only bounds a hang; nothing asserts on time). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A Hugging Face hub cache with one model repo (config.json, whose text is `config`, and a weight file
 * linked from blobs/, refs/main) and one dataset; returns the cache directory (HF_HUB_CACHE).
 */
export function buildHfCache(
  root: string,
  repo = "acme/tiny-model",
  config = JSON.stringify({ model_type: "llama" }),
): { cacheDir: string; commit: string } {
  const cacheDir = join(root, "hub");
  const commit = "a".repeat(40);
  const repoDir = join(cacheDir, `models--${repo.replace("/", "--")}`);
  const blob = (name: string, content: string) => {
    mkdirSync(join(repoDir, "blobs"), { recursive: true });
    writeFileSync(join(repoDir, "blobs", name), content);
  };
  const link = (path: string, name: string) => {
    const pointer = join(repoDir, "snapshots", commit, path);
    mkdirSync(dirname(pointer), { recursive: true });
    symlinkSync(relative(dirname(pointer), join(repoDir, "blobs", name)), pointer);
  };
  blob("c0nf1g", config);
  blob("we1ght5", "w".repeat(1000));
  blob("partial.incomplete", "p".repeat(10));
  link("config.json", "c0nf1g");
  link("model.safetensors", "we1ght5");
  mkdirSync(join(repoDir, "refs"), { recursive: true });
  writeFileSync(join(repoDir, "refs", "main"), commit);
  mkdirSync(join(cacheDir, "datasets--acme--data", "snapshots"), { recursive: true });
  return { cacheDir, commit };
}
