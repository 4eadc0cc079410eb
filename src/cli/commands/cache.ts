import type { Command } from "commander";
import { ServepilotError } from "../../core/errors.js";
import type { DeletionPlan } from "../../runtime/cache/prune-cache.js";
import type { CacheScan } from "../../runtime/cache/scan-cache.js";
import { action, type CommandContext, type CommandResult } from "../context.js";

interface DownloadFlags {
  revision?: string;
  include: string[];
  exclude: string[];
}

interface DeleteFlags {
  yes?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function loadScan(ctx: CommandContext): Promise<CacheScan> {
  const { resolveSourceSettings } = await import("../../runtime/models/source-settings.js");
  const { scanCache } = await import("../../runtime/cache/scan-cache.js");
  const settings = await resolveSourceSettings({ env: ctx.env });
  return scanCache(settings.cacheDir);
}

function scanData(scan: CacheScan) {
  return {
    cacheDir: scan.cacheDir,
    exists: scan.exists,
    repoCount: scan.repos.length,
    totalBytes: scan.totalBytes,
    repos: scan.repos.map((r) => ({
      repo: r.repo,
      kind: r.kind,
      path: r.path,
      sizeBytes: r.sizeBytes,
      lastModified: r.lastModified,
      refs: r.refs,
      incompleteBytes: r.incompleteBytes,
      revisions: r.revisions.map((rev) => ({
        commit: rev.commit,
        refs: rev.refs,
        files: rev.files,
        sizeBytes: rev.sizeBytes,
      })),
    })),
    warnings: scan.warnings,
  };
}

async function stats(ctx: CommandContext): Promise<CommandResult> {
  const { renderCacheStats } = await import("../render/cache.js");
  const scan = await loadScan(ctx);
  return { data: scanData(scan), human: renderCacheStats(scan, ctx.colors) };
}

async function list(ctx: CommandContext, filter: string | undefined): Promise<CommandResult> {
  const { renderCacheList } = await import("../render/cache.js");
  const scan = await loadScan(ctx);
  const needle = filter?.toLowerCase();
  const shown = {
    ...scan,
    repos: scan.repos.filter((r) => !needle || r.repo.toLowerCase().includes(needle)),
  };
  return { data: scanData(shown), human: renderCacheList(shown, filter) };
}

async function download(ctx: CommandContext, repo: string, flags: DownloadFlags): Promise<CommandResult> {
  const { downloadToCache } = await import("../../runtime/cache/download-to-cache.js");
  const { renderDownload, renderProgressLine } = await import("../render/cache.js");
  const tty = process.stderr.isTTY === true;
  let lastPercent = -1;
  let lastFile = "";
  const result = await downloadToCache(repo, {
    env: ctx.env,
    revision: flags.revision,
    include: flags.include,
    exclude: flags.exclude,
    onProgress: (p) => {
      if (ctx.output.json) return;
      const percent = p.fileSize > 0 ? Math.floor((p.fileBytes / p.fileSize) * 100) : 100;
      if (percent === lastPercent && p.file === lastFile) return;
      lastPercent = percent;
      lastFile = p.file;
      if (tty) ctx.writers.stderr(`\r\u001b[2K${renderProgressLine(p)}`);
      else if (p.fileBytes === p.fileSize) ctx.writers.stderr(`${renderProgressLine(p)}\n`);
    },
  });
  if (tty && !ctx.output.json && lastFile !== "") ctx.writers.stderr("\n");
  return { data: result, human: renderDownload(result) };
}

/** Asks on a terminal; without one, refuses unless --yes was given (a script must say so). */
async function confirmDeletion(ctx: CommandContext, plan: DeletionPlan, flags: DeleteFlags, what: string) {
  if (flags.yes) return true;
  if (process.stdin.isTTY !== true) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `refusing to delete ${what} without --yes: stdin is not a terminal`,
      {
        hint: "Rerun with --yes to delete without asking.",
        details: { items: plan.items.length, freedBytes: plan.freedBytes },
      },
    );
  }
  const { renderDeletionPlan } = await import("../render/cache.js");
  const { createInterface } = await import("node:readline/promises");
  ctx.writers.stderr(renderDeletionPlan(plan));
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Delete ${what}? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

async function deleteWith(
  ctx: CommandContext,
  plan: DeletionPlan,
  flags: DeleteFlags,
  what: string,
): Promise<CommandResult> {
  const { applyCacheDeletion } = await import("../../runtime/cache/prune-cache.js");
  const { formatBytes, renderDeletionPlan } = await import("../render/cache.js");
  const data = { deleted: false, items: plan.items, freedBytes: plan.freedBytes };
  if (plan.items.length === 0) return { data, human: "nothing to delete\n" };
  if (!(await confirmDeletion(ctx, plan, flags, what)))
    return { data, human: "cancelled: nothing deleted\n" };
  await applyCacheDeletion(plan);
  return {
    data: { ...data, deleted: true },
    human: `${renderDeletionPlan(plan)}deleted ${plan.items.length} item(s), freed ${formatBytes(plan.freedBytes)}\n`,
  };
}

async function remove(ctx: CommandContext, repo: string, flags: DeleteFlags): Promise<CommandResult> {
  const { planRemove } = await import("../../runtime/cache/prune-cache.js");
  return deleteWith(ctx, planRemove(await loadScan(ctx), repo), flags, repo);
}

async function prune(ctx: CommandContext, flags: DeleteFlags): Promise<CommandResult> {
  const { planPrune } = await import("../../runtime/cache/prune-cache.js");
  return deleteWith(ctx, await planPrune(await loadScan(ctx)), flags, "these cache entries");
}

export function registerCache(program: Command): void {
  const cache = program
    .command("cache")
    .description("manage the Hugging Face model cache ($HF_HUB_CACHE, shared with vLLM and huggingface-cli)");
  cache
    .command("stats")
    .description("cache path, repos, total size, per-repo size and revisions")
    .action(action(stats));
  cache
    .command("list")
    .description("cached repos with their sizes and revisions")
    .argument("[filter]", "substring of a repo id")
    .action(action(list));
  cache
    .command("download")
    .description(
      "download a Hub model repo into the cache (resumes interrupted files; HF_TOKEN for gated repos)",
    )
    .argument("<repo>", "Hugging Face repo id, e.g. Qwen/Qwen3-0.6B")
    .option("--revision <rev>", "branch, tag or commit (default: main)")
    .option(
      "--include <glob>",
      "only files matching this glob (repeatable), e.g. '*Q4_K_M.gguf'",
      collect,
      [],
    )
    .option("--exclude <glob>", "skip files matching this glob (repeatable)", collect, [])
    .action(action(download));
  cache
    .command("remove")
    .description("delete a repo from the cache (asks first; --yes to skip)")
    .argument("<repo>", "Hugging Face repo id")
    .option("-y, --yes", "delete without asking (required when stdin is not a terminal)")
    .action(action(remove));
  cache
    .command("prune")
    .description(
      "delete revisions no ref points at (detached), blobs no kept revision uses and .incomplete downloads",
    )
    .option("-y, --yes", "delete without asking (required when stdin is not a terminal)")
    .action(action(prune));
  for (const command of cache.commands) command.exitOverride().configureOutput({ outputError: () => {} });
}
