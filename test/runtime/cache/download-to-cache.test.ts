import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { downloadToCache } from "../../../src/runtime/cache/download-to-cache.js";
import { type HubServer, startHubServer } from "../../helpers/hub-server.js";

const sha1 = (text: string | Uint8Array) => createHash("sha1").update(text).digest("hex");

const FILES: Record<string, string> = {
  "config.json": JSON.stringify({ model_type: "llama", hidden_size: 64 }),
  "model.safetensors": "S".repeat(5000),
  "sub/notes.txt": "nested file",
  "tiny-Q4_K_M.gguf": "Q4".repeat(300),
  "tiny-Q8_0.gguf": "Q8".repeat(600),
};
const COMMIT = sha1("acme/tiny");

function hfEnv(hub: HubServer): NodeJS.ProcessEnv {
  return { HF_HOME: mkdtempSync(join(tmpdir(), "servepilot-hf-")), HF_ENDPOINT: hub.url };
}

function repoDir(env: NodeJS.ProcessEnv): string {
  return join(env.HF_HOME as string, "hub", "models--acme--tiny");
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServepilotError) return error.code;
    throw error;
  }
  return "no error";
}

describe("downloadToCache against a loopback Hub", () => {
  let hub: HubServer;
  beforeAll(async () => {
    hub = await startHubServer([
      { id: "acme/tiny", files: FILES },
      { id: "acme/tagged", files: { "a.txt": "v1" }, refs: { "v1.0": sha1("tag") } },
      { id: "acme/gated", files: { "config.json": "{}" }, gated: { token: "hf_good" } },
    ]);
  });
  afterAll(() => hub.close());

  it("writes the huggingface_hub layout: blobs by etag, relative snapshot links, refs/main", async () => {
    const env = hfEnv(hub);
    const result = await downloadToCache("acme/tiny", { env });
    const dir = repoDir(env);
    expect(result.commit).toBe(COMMIT);
    expect(readFileSync(join(dir, "refs", "main"), "utf8")).toBe(COMMIT);
    for (const [path, content] of Object.entries(FILES)) {
      const blob = join(dir, "blobs", sha1(content));
      expect(readFileSync(blob, "utf8")).toBe(content);
      const pointer = join(dir, "snapshots", COMMIT, path);
      expect(lstatSync(pointer).isSymbolicLink()).toBe(true);
      const up = "../".repeat(path.split("/").length + 1);
      expect(readlinkSync(pointer)).toBe(`${up}blobs/${sha1(content)}`);
      expect(readFileSync(pointer, "utf8")).toBe(content);
    }
    expect(result.fetchedBytes).toBe(Object.values(FILES).reduce((s, c) => s + c.length, 0));
  });

  it("fetches nothing the second time", async () => {
    const env = hfEnv(hub);
    await downloadToCache("acme/tiny", { env });
    const before = hub.requests.filter((r) => r.path.includes("/resolve/")).length;
    const again = await downloadToCache("acme/tiny", { env });
    expect(again.fetchedBytes).toBe(0);
    expect(again.files.every((f) => !f.fetched)).toBe(true);
    expect(hub.requests.filter((r) => r.path.includes("/resolve/")).length).toBe(before);
  });

  it("selects files with --include / --exclude globs", async () => {
    const env = hfEnv(hub);
    const one = await downloadToCache("acme/tiny", { env, include: ["*Q4_K_M.gguf"] });
    expect(one.files.map((f) => f.path)).toEqual(["tiny-Q4_K_M.gguf"]);
    const rest = await downloadToCache("acme/tiny", { env: hfEnv(hub), exclude: ["*.gguf", "sub/"] });
    expect(rest.files.map((f) => f.path).sort()).toEqual(["config.json", "model.safetensors"]);
    expect(await codeOf(downloadToCache("acme/tiny", { env, include: ["*.bin"] }))).toBe("INVALID_ARGUMENT");
  });

  it("resumes from a .incomplete blob with a Range request", async () => {
    const env = hfEnv(hub);
    const content = FILES["model.safetensors"] as string;
    const blobs = join(repoDir(env), "blobs");
    mkdirSync(blobs, { recursive: true });
    writeFileSync(join(blobs, `${sha1(content)}.incomplete`), content.slice(0, 1200));
    const result = await downloadToCache("acme/tiny", { env, include: ["model.safetensors"] });
    expect(result.files[0]?.resumedFrom).toBe(1200);
    expect(result.fetchedBytes).toBe(content.length - 1200);
    expect(hub.requests.some((r) => r.range === "bytes=1200-")).toBe(true);
    expect(readFileSync(join(blobs, sha1(content)), "utf8")).toBe(content);
  });

  it("writes refs/{tag} for a tag and no ref for a commit hash", async () => {
    const env = hfEnv(hub);
    const tagged = await downloadToCache("acme/tagged", { env, revision: "v1.0" });
    const dir = join(env.HF_HOME as string, "hub", "models--acme--tagged");
    expect(tagged.commit).toBe(sha1("tag"));
    expect(readFileSync(join(dir, "refs", "v1.0"), "utf8")).toBe(sha1("tag"));
    const env2 = hfEnv(hub);
    await downloadToCache("acme/tagged", { env: env2, revision: sha1("tag") });
    const dir2 = join(env2.HF_HOME as string, "hub", "models--acme--tagged");
    expect(() => lstatSync(join(dir2, "refs"))).toThrow();
    expect(readFileSync(join(dir2, "snapshots", sha1("tag"), "a.txt"), "utf8")).toBe("v1");
  });

  it("maps a gated repo to PERMISSION_DENIED and sends HF_TOKEN", async () => {
    expect(await codeOf(downloadToCache("acme/gated", { env: hfEnv(hub) }))).toBe("PERMISSION_DENIED");
    const env = { ...hfEnv(hub), HF_TOKEN: "hf_good" };
    const ok = await downloadToCache("acme/gated", { env });
    expect(ok.files.map((f) => f.path)).toEqual(["config.json"]);
  });

  it("maps a missing repo, an unreachable Hub and offline mode to their codes", async () => {
    expect(await codeOf(downloadToCache("acme/none", { env: hfEnv(hub) }))).toBe("MODEL_NOT_FOUND");
    const down = { ...hfEnv(hub), HF_ENDPOINT: "http://127.0.0.1:1" };
    expect(await codeOf(downloadToCache("acme/tiny", { env: down }))).toBe("NETWORK_ERROR");
    const offline = { ...hfEnv(hub), HF_HUB_OFFLINE: "1" };
    expect(await codeOf(downloadToCache("acme/tiny", { env: offline }))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(downloadToCache("not a repo", { env: hfEnv(hub) }))).toBe("INVALID_ARGUMENT");
  });

  it("reports an unwritable cache as CACHE_ERROR", async () => {
    const env = hfEnv(hub);
    writeFileSync(join(env.HF_HOME as string, "hub"), "a file where the cache folder should be");
    expect(await codeOf(downloadToCache("acme/tiny", { env }))).toBe("CACHE_ERROR");
  });
});
