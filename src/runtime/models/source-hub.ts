import {
  downloadFile,
  type ListFileEntry,
  listFiles,
  modelInfo,
  parseSafetensorsMetadata,
  SafetensorParseError,
} from "@huggingface/hub";
import { ServepilotError } from "../../core/errors.js";
import { chooseGgufFile } from "./choose-gguf-file.js";
import { createHubClient, type HubClient } from "./hub-client.js";
import { classifyHubError, type HubErrorContext } from "./hub-errors.js";
import { parseConfigText } from "./read-config-file.js";
import { readRemoteGguf } from "./read-gguf.js";
import { SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE } from "./read-safetensors.js";
import type { SourceOutcome } from "./source-outcome.js";
import type { ModelSourceSettings } from "./source-settings.js";
import { summarizeSafetensors } from "./summarize-safetensors.js";
import type { GgufSummary, SafetensorsSummary } from "./types.js";

interface RepoFiles {
  /** Commit the reads are pinned to (the revision's sha when the Hub said it). */
  revision: string;
  entries: ListFileEntry[];
}

async function listRepo(repo: string, settings: ModelSourceSettings, client: HubClient): Promise<RepoFiles> {
  const common = { hubUrl: settings.hubUrl, fetch: client.fetch };
  const info = await modelInfo({
    name: repo,
    revision: settings.revision,
    additionalFields: ["sha"],
    ...common,
  });
  const revision = typeof info.sha === "string" && info.sha ? info.sha : settings.revision;
  const entries: ListFileEntry[] = [];
  for await (const entry of listFiles({ repo, revision, recursive: true, ...common })) {
    if (entry.type === "file") entries.push(entry);
  }
  return { revision, entries };
}

async function readHubConfig(
  repo: string,
  revision: string,
  settings: ModelSourceSettings,
  client: HubClient,
) {
  const blob = await downloadFile({
    repo,
    path: "config.json",
    revision,
    hubUrl: settings.hubUrl,
    fetch: client.fetch,
  });
  const label = `${settings.hubUrl}/${repo}/blob/${revision}/config.json`;
  if (!blob) throw new ServepilotError("MODEL_NOT_FOUND", `${label}: listed but not downloadable`);
  return parseConfigText(await blob.text(), label);
}

async function readHubSafetensors(
  repo: string,
  path: string,
  revision: string,
  config: Record<string, unknown> | null,
  settings: ModelSourceSettings,
  client: HubClient,
): Promise<SafetensorsSummary> {
  let parsed: Awaited<ReturnType<typeof parseSafetensorsMetadata>>;
  try {
    parsed = await parseSafetensorsMetadata({
      repo,
      path,
      revision,
      hubUrl: settings.hubUrl,
      fetch: client.fetch,
    });
  } catch (error) {
    if (!(error instanceof SafetensorParseError)) throw error;
    throw new ServepilotError(
      "INVALID_MODEL_CONFIG",
      `${settings.hubUrl}/${repo}@${revision}: ${error.message}`,
      {
        hint: "The weight files on the Hub look damaged; check the repository or pick another revision.",
        details: { repo, revision, file: path },
        cause: error,
      },
    );
  }
  const headers = parsed.sharded ? Object.entries(parsed.headers) : [[path, parsed.header] as const];
  const shards = headers.map(([file, header]) => ({
    file,
    tensors: Object.entries(header).flatMap(([name, info]) =>
      name === "__metadata__"
        ? []
        : [{ name, dtype: String(info.dtype), shape: (info.shape as number[]).map(Number) }],
    ),
  }));
  return await summarizeSafetensors(shards, config);
}

function fileSize(entry: ListFileEntry | undefined): number | null {
  if (!entry) return null;
  return entry.lfs?.size ?? entry.size;
}

async function readHubGguf(
  repo: string,
  files: RepoFiles,
  settings: ModelSourceSettings,
  client: HubClient,
): Promise<GgufSummary | null> {
  const choice = chooseGgufFile(
    files.entries.map((entry) => entry.path),
    settings.ggufFile,
  );
  if (choice.kind === "none") return null;
  if (choice.kind === "no-match") {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `${settings.hubUrl}/${repo}: no GGUF file matches ${JSON.stringify(settings.ggufFile)}; available: ${choice.available.join(", ")}`,
      { details: { repo, available: choice.available } },
    );
  }
  const sizes = choice.shardFiles.map((file) => fileSize(files.entries.find((entry) => entry.path === file)));
  const total = sizes.every((size) => size !== null)
    ? sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0)
    : null;
  const path = choice.file.split("/").map(encodeURIComponent).join("/");
  const url = `${settings.hubUrl}/${repo}/resolve/${encodeURIComponent(files.revision)}/${path}`;
  return readRemoteGguf(url, client.strictFetch, total);
}

async function readRepo(
  repo: string,
  settings: ModelSourceSettings,
  client: HubClient,
): Promise<SourceOutcome> {
  const files = await listRepo(repo, settings, client);
  const paths = new Set(files.entries.map((entry) => entry.path));
  const config = paths.has("config.json")
    ? await readHubConfig(repo, files.revision, settings, client)
    : null;
  const weightsPath = paths.has(SAFETENSORS_FILE)
    ? SAFETENSORS_FILE
    : paths.has(SAFETENSORS_INDEX_FILE)
      ? SAFETENSORS_INDEX_FILE
      : null;
  const safetensors = weightsPath
    ? await readHubSafetensors(repo, weightsPath, files.revision, config, settings, client)
    : null;
  const gguf = safetensors ? null : await readHubGguf(repo, files, settings, client);
  const where = `${settings.hubUrl}/${repo}`;
  if (!config && !gguf) {
    return { outcome: "not-found", message: `${where} has no config.json and no GGUF file` };
  }
  const weights = safetensors
    ? `${safetensors.files.length} safetensors file(s)`
    : gguf
      ? "GGUF header"
      : "no weights";
  const revision = client.servedCommit() ?? files.revision;
  return {
    outcome: "found",
    message: `${where}@${revision}: ${config ? "config.json, " : ""}${weights}`,
    model: { id: repo, origin: { kind: "hub", location: where, revision }, config, safetensors, gguf },
  };
}

/**
 * Source 3: the Hugging Face Hub (or HF_ENDPOINT), through @huggingface/hub: model info (to pin
 * the commit), the file list, config.json, safetensors headers by range reads, and for GGUF-only
 * repos the GGUF header through @huggingface/gguf.
 */
export async function resolveFromHub(repo: string, settings: ModelSourceSettings): Promise<SourceOutcome> {
  if (settings.offlineReason) return { outcome: "skipped", message: settings.offlineReason };
  const client = createHubClient({
    hubUrl: settings.hubUrl,
    token: settings.token,
    timeoutMs: settings.timeoutMs,
    baseFetch: settings.fetch,
    signal: settings.signal,
  });
  try {
    return await readRepo(repo, settings, client);
  } catch (error) {
    if (settings.signal?.aborted) throw settings.signal.reason;
    // A malformed file on the Hub settles the question; transport and access failures do not.
    if (error instanceof ServepilotError && error.code !== "NETWORK_ERROR") throw error;
    const context: HubErrorContext = {
      repo,
      revision: settings.revision,
      hubUrl: settings.hubUrl,
      tokenSet: settings.token !== null,
      timeoutMs: settings.timeoutMs,
      client,
    };
    return classifyHubError(error, context);
  }
}
