import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HubServer, startHubServer } from "../helpers/hub-server.js";
import { isolatedEnv, runCliAsync } from "../helpers/run-cli.js";

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
const FILES = {
  "config.json": JSON.stringify({ model_type: "llama" }),
  "tiny-Q4_K_M.gguf": "4".repeat(2000),
  "tiny-Q8_0.gguf": "8".repeat(4000),
};
const COMMIT = sha1("acme/tiny");
const REPO_BYTES = Object.values(FILES).reduce((sum, text) => sum + text.length, 0);

describe("servepilot cache", () => {
  let hub: HubServer;
  beforeAll(async () => {
    hub = await startHubServer([
      { id: "acme/tiny", files: FILES },
      { id: "acme/gated", files: { "config.json": "{}" }, gated: { token: "hf_ok" } },
    ]);
  });
  afterAll(() => hub.close());

  function hubEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env = isolatedEnv({ HF_ENDPOINT: hub.url, ...extra });
    delete env.HF_HUB_OFFLINE;
    return env;
  }
  const cacheOf = (env: NodeJS.ProcessEnv) => join(env.HOME as string, ".cache/huggingface/hub");

  it("download --json: one envelope on stdout, nothing on stderr, the HF layout on disk", async () => {
    const env = hubEnv();
    const result = await runCliAsync(
      ["cache", "download", "acme/tiny", "--include", "*Q4_K_M.gguf", "--json"],
      env,
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const data = result.json().data;
    expect(data).toMatchObject({ repo: "acme/tiny", commit: COMMIT, fetchedBytes: 2000 });
    expect(data.files.map((f: { path: string }) => f.path)).toEqual(["tiny-Q4_K_M.gguf"]);
    const repo = join(cacheOf(env), "models--acme--tiny");
    expect(readFileSync(join(repo, "refs/main"), "utf8")).toBe(COMMIT);
    expect(lstatSync(join(repo, "snapshots", COMMIT, "tiny-Q4_K_M.gguf")).isSymbolicLink()).toBe(true);
    expect(existsSync(join(repo, "snapshots", COMMIT, "tiny-Q8_0.gguf"))).toBe(false);
    expect(readFileSync(join(repo, "blobs", sha1(FILES["tiny-Q4_K_M.gguf"])), "utf8")).toBe(
      FILES["tiny-Q4_K_M.gguf"],
    );
  });

  it("download for humans: progress on stderr, a summary on stdout", async () => {
    const env = hubEnv();
    const result = await runCliAsync(["cache", "download", "acme/tiny", "--exclude", "*.gguf"], env);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/\[1\/1\] config\.json .*100%/);
    expect(result.stdout).toContain(
      `snapshot: ${join(cacheOf(env), "models--acme--tiny", "snapshots", COMMIT)}`,
    );
  });

  it("gated repo without HF_TOKEN: exit 7 with the HF_TOKEN hint; with it: downloaded", async () => {
    const denied = await runCliAsync(["cache", "download", "acme/gated", "--json"], hubEnv());
    expect(denied.code).toBe(7);
    expect(denied.json().error).toMatchObject({ code: "PERMISSION_DENIED" });
    expect(denied.json().error.hint).toContain("HF_TOKEN");
    const ok = await runCliAsync(
      ["cache", "download", "acme/gated", "--json"],
      hubEnv({ HF_TOKEN: "hf_ok" }),
    );
    expect(ok.code).toBe(0);
  });

  it("an unreachable Hub exits 6; an unwritable cache exits 5", async () => {
    const down = await runCliAsync(
      ["cache", "download", "acme/tiny"],
      hubEnv({ HF_ENDPOINT: "http://127.0.0.1:1" }),
    );
    expect(down.code).toBe(6);
    const env = hubEnv();
    env.HF_HUB_CACHE = join(env.HOME as string, "cache-file");
    writeFileSync(env.HF_HUB_CACHE, "not a directory");
    const blocked = await runCliAsync(["cache", "download", "acme/tiny", "--json"], env);
    expect(blocked.code).toBe(5);
    expect(blocked.json().error.code).toBe("CACHE_ERROR");
  });

  it("stats, list, remove (refused without --yes off a terminal) and prune", async () => {
    const env = hubEnv();
    expect((await runCliAsync(["cache", "download", "acme/tiny", "--json"], env)).code).toBe(0);
    const repo = join(cacheOf(env), "models--acme--tiny");
    writeFileSync(join(repo, "blobs", "deadbeef.incomplete"), "x".repeat(10));

    const stats = (await runCliAsync(["cache", "stats", "--json"], env)).json().data;
    expect(stats).toMatchObject({ cacheDir: cacheOf(env), repoCount: 1, totalBytes: REPO_BYTES + 10 });
    expect(stats.repos[0]).toMatchObject({ repo: "acme/tiny", incompleteBytes: 10, refs: { main: COMMIT } });
    expect(stats.repos[0].revisions).toEqual([
      { commit: COMMIT, refs: ["main"], files: 3, sizeBytes: REPO_BYTES },
    ]);
    const human = await runCliAsync(["cache", "stats"], env);
    expect(human.stdout).toMatch(/acme\/tiny\s+model\s+5\.9 KiB\s+1/);

    expect((await runCliAsync(["cache", "list", "tiny", "--json"], env)).json().data.repoCount).toBe(1);
    expect((await runCliAsync(["cache", "list", "nomatch", "--json"], env)).json().data.repoCount).toBe(0);

    const pruned = await runCliAsync(["cache", "prune", "--yes", "--json"], env);
    expect(pruned.json().data).toMatchObject({ deleted: true, freedBytes: 10 });
    expect(existsSync(join(repo, "blobs", "deadbeef.incomplete"))).toBe(false);

    const refused = await runCliAsync(["cache", "remove", "acme/tiny"], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--yes");
    expect(existsSync(repo)).toBe(true);
    const removed = await runCliAsync(["cache", "remove", "acme/tiny", "--yes", "--json"], env);
    expect(removed.json().data).toMatchObject({ deleted: true, freedBytes: REPO_BYTES });
    expect(existsSync(repo)).toBe(false);
    const missing = await runCliAsync(["cache", "remove", "acme/tiny", "--yes"], env);
    expect(missing.code).toBe(2);
  });
});
