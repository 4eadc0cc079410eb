import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { applyCacheDeletion, planPrune, planRemove } from "../../../src/runtime/cache/prune-cache.js";
import { scanCache } from "../../../src/runtime/cache/scan-cache.js";

const MAIN = "a".repeat(40);
const OLD = "b".repeat(40);
const PR = "c".repeat(40);

/** A cache as huggingface_hub leaves it after two downloads of main, a PR ref, and an interrupted one. */
function buildCache(): string {
  const cache = mkdtempSync(join(tmpdir(), "servepilot-cache-"));
  const repo = join(cache, "models--acme--tiny");
  const blob = (name: string, bytes: number) => {
    mkdirSync(join(repo, "blobs"), { recursive: true });
    writeFileSync(join(repo, "blobs", name), "x".repeat(bytes));
  };
  const link = (commit: string, path: string, name: string) => {
    const pointer = join(repo, "snapshots", commit, path);
    mkdirSync(dirname(pointer), { recursive: true });
    symlinkSync(relative(dirname(pointer), join(repo, "blobs", name)), pointer);
  };
  blob("shared", 100);
  blob("new-weights", 1000);
  blob("old-weights", 700);
  blob("pr-only", 30);
  blob("orphan", 5);
  blob("partial.incomplete", 50);
  link(MAIN, "config.json", "shared");
  link(MAIN, "weights/model.bin", "new-weights");
  link(OLD, "config.json", "shared");
  link(OLD, "weights/model.bin", "old-weights");
  link(PR, "extra.txt", "pr-only");
  mkdirSync(join(repo, "refs", "pr"), { recursive: true });
  writeFileSync(join(repo, "refs", "main"), MAIN);
  writeFileSync(join(repo, "refs", "pr", "1"), `${PR}\n`);
  mkdirSync(join(cache, "models--other--model", "snapshots"), { recursive: true });
  mkdirSync(join(cache, ".locks"));
  return cache;
}

describe("scanCache", () => {
  it("reports sizes, revisions with their refs (nested ones too), and incomplete blobs", async () => {
    const cache = buildCache();
    const scan = await scanCache(cache);
    expect(scan.exists).toBe(true);
    expect(scan.repos.map((r) => r.repo)).toEqual(["acme/tiny", "other/model"]);
    const tiny = scan.repos[0];
    expect(tiny?.sizeBytes).toBe(100 + 1000 + 700 + 30 + 5 + 50);
    expect(tiny?.incompleteBytes).toBe(50);
    expect(tiny?.refs).toEqual({ main: MAIN, "pr/1": PR });
    const byCommit = Object.fromEntries((tiny?.revisions ?? []).map((r) => [r.commit, r]));
    expect(byCommit[MAIN]).toMatchObject({ refs: ["main"], files: 2, sizeBytes: 1100 });
    expect(byCommit[OLD]).toMatchObject({ refs: [], files: 2, sizeBytes: 800 });
    expect(byCommit[PR]).toMatchObject({ refs: ["pr/1"], files: 1, sizeBytes: 30 });
    expect(tiny?.lastModified).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(scan.totalBytes).toBe(tiny?.sizeBytes);
  });

  it("answers an empty scan for a cache that does not exist yet", async () => {
    const scan = await scanCache(join(tmpdir(), "servepilot-no-such-cache", String(process.pid)));
    expect(scan).toMatchObject({ exists: false, repos: [], totalBytes: 0 });
  });

  it("reports an unreadable cache as CACHE_ERROR (a symlink loop) and a path under a file as empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "servepilot-cache-"));
    symlinkSync("loop", join(dir, "loop"));
    const error = await scanCache(join(dir, "loop")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServepilotError);
    expect((error as ServepilotError).code).toBe("CACHE_ERROR");
    writeFileSync(join(dir, "f"), "");
    expect(await scanCache(join(dir, "f", "x"))).toMatchObject({ exists: false, repos: [] });
  });
});

describe("planPrune / planRemove / applyCacheDeletion", () => {
  it("prunes the detached revision, the blobs only it used, orphans and incomplete blobs", async () => {
    const cache = buildCache();
    const plan = await planPrune(await scanCache(cache));
    const tiny = join(cache, "models--acme--tiny");
    const short = plan.items.map((i) => `${i.kind}:${relative(tiny, i.path)}`).sort();
    expect(short).toEqual([
      "blob:blobs/old-weights",
      "blob:blobs/orphan",
      "incomplete:blobs/partial.incomplete",
      `revision:snapshots/${OLD}`,
    ]);
    expect(plan.freedBytes).toBe(700 + 5 + 50);
    await applyCacheDeletion(plan);
    expect(existsSync(join(tiny, "blobs", "shared"))).toBe(true);
    expect(existsSync(join(tiny, "blobs", "pr-only"))).toBe(true);
    expect(existsSync(join(tiny, "snapshots", OLD))).toBe(false);
    const after = await scanCache(cache);
    expect(after.repos[0]?.sizeBytes).toBe(1130);
    expect((await planPrune(after)).items).toEqual([]);
  });

  it("removes a whole repo, and refuses one that is not cached", async () => {
    const cache = buildCache();
    const plan = planRemove(await scanCache(cache), "acme/tiny");
    expect(plan.freedBytes).toBe(1885);
    await applyCacheDeletion(plan);
    expect((await scanCache(cache)).repos.map((r) => r.repo)).toEqual(["other/model"]);
    expect(() =>
      planRemove({ cacheDir: cache, exists: true, repos: [], totalBytes: 0, warnings: [] }, "x/y"),
    ).toThrow(ServepilotError);
  });
});
