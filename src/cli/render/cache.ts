import type { DownloadProgress } from "../../runtime/cache/download-repo.js";
import type { DownloadResult } from "../../runtime/cache/download-to-cache.js";
import type { DeletionPlan } from "../../runtime/cache/prune-cache.js";
import type { CacheScan } from "../../runtime/cache/scan-cache.js";
import type { Colors } from "../output.js";
import { renderTable } from "../table.js";

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

function renderRefs(refs: readonly string[]): string {
  return refs.length > 0 ? refs.join(",") : "(detached)";
}

export function renderCacheStats(scan: CacheScan, c: Colors): string {
  const head = [
    `cache: ${scan.cacheDir}${scan.exists ? "" : c.dim(" (does not exist yet)")}`,
    `repos: ${scan.repos.length}, total ${formatBytes(scan.totalBytes)}`,
  ];
  const incomplete = scan.repos.reduce((sum, r) => sum + r.incompleteBytes, 0);
  if (incomplete > 0)
    head.push(c.yellow(`incomplete downloads: ${formatBytes(incomplete)} (servepilot cache prune)`));
  for (const warning of scan.warnings) head.push(c.yellow(`warning: ${warning}`));
  if (scan.repos.length === 0) return `${head.join("\n")}\n`;
  const rows = scan.repos.map((r) => [
    r.repo,
    r.kind,
    formatBytes(r.sizeBytes),
    String(r.revisions.length),
    r.lastModified ?? "-",
  ]);
  return `${head.join("\n")}\n\n${renderTable(["repo", "type", "size", "revisions", "last modified"], rows)}`;
}

export function renderCacheList(scan: CacheScan, filter: string | undefined): string {
  if (scan.repos.length === 0) {
    return filter
      ? `no cached repo matches ${JSON.stringify(filter)}\n`
      : `the cache is empty (${scan.cacheDir})\n`;
  }
  const rows = scan.repos.flatMap((r) =>
    r.revisions.length === 0
      ? [[r.repo, formatBytes(r.sizeBytes), "-", "-"]]
      : r.revisions.map((rev, i) => [
          i === 0 ? r.repo : "",
          i === 0 ? formatBytes(r.sizeBytes) : "",
          rev.commit.slice(0, 12),
          renderRefs(rev.refs),
        ]),
  );
  return renderTable(["repo", "size", "revision", "refs"], rows);
}

export function renderDeletionPlan(plan: DeletionPlan): string {
  const rows = plan.items.map((item) => [item.kind, item.repo, formatBytes(item.sizeBytes), item.path]);
  return `${renderTable(["what", "repo", "size", "path"], rows)}frees ${formatBytes(plan.freedBytes)}\n`;
}

export function renderDownload(result: DownloadResult): string {
  const fetched = result.files.filter((f) => f.fetched).length;
  return [
    `${result.repo}@${result.revision} (${result.commit})`,
    `${fetched} of ${result.files.length} file(s) fetched (${formatBytes(result.fetchedBytes)}), ${formatBytes(result.totalBytes)} in all`,
    `snapshot: ${result.snapshotPath}`,
    "",
  ].join("\n");
}

export function renderProgressLine(p: DownloadProgress): string {
  const percent = p.neededBytes > 0 ? Math.floor((p.doneBytes / p.neededBytes) * 100) : 100;
  return `[${p.filesDone + 1}/${p.filesTotal}] ${p.file} ${formatBytes(p.fileBytes)}/${formatBytes(p.fileSize)} (${percent}% of ${formatBytes(p.neededBytes)})`;
}
