/**
 * Download jobs against a loopback Hugging Face Hub (test/helpers/hub-server.ts, via HF_ENDPOINT):
 * 202 with an id, `download` events on /api/events up to done, the HF cache layout on disk, cancel,
 * the offline refusal, and the runtime removing the partial file of a cancelled blob.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadToCache } from "../../src/runtime/cache/download-to-cache.js";
import { type HubServer, startHubServer } from "../helpers/hub-server.js";
import { isolatedEnv } from "../helpers/run-cli.js";
import { openEvents, waitFor } from "./catalog-helpers.js";
import { startTestStudio, studioEnv, type TestStudio } from "./studio-harness.js";

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
const FILES = {
  "config.json": JSON.stringify({ model_type: "llama" }),
  "tiny-Q4_K_M.gguf": "4".repeat(200_000),
  "tiny-Q8_0.gguf": "8".repeat(4000),
};

let hub: HubServer;
let s: TestStudio;
let cacheDir: string;
beforeAll(async () => {
  hub = await startHubServer([{ id: "acme/tiny", files: FILES }]);
  cacheDir = join(mkdtempSync(join(tmpdir(), "sp-hf-")), "hub");
  const env = studioEnv({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: cacheDir });
  delete env.HF_HUB_OFFLINE;
  s = await startTestStudio({ env });
});
afterAll(async () => {
  await s?.close();
  await hub?.close();
});

describe("studio downloads", () => {
  it("downloads as a job: 202, progress events, done, the files in the HF cache", async () => {
    const stream = await openEvents(s.url, "download");
    try {
      const started = await s.api("/api/downloads", { body: { repo: "acme/tiny", exclude: ["*Q8_0.gguf"] } });
      expect(started.status).toBe(202);
      const id = started.body.id as string;
      expect(id).toMatch(/^dl-[0-9a-f]{12}$/);
      expect(started.headers.get("location")).toBe(`/api/downloads/${id}`);
      await waitFor(
        () => stream.events.some((e) => e.data.id === id && e.data.status === "done"),
        "the done event",
      );
      const mine = stream.events.filter((e) => e.data.id === id).map((e) => e.data);
      expect(mine[0]).toMatchObject({ status: "queued", repo: "acme/tiny", revision: "main" });
      expect(mine.some((e) => e.status === "running" && e.bytesTotal !== null)).toBe(true);
      const total = FILES["config.json"].length + FILES["tiny-Q4_K_M.gguf"].length;
      expect(mine.at(-1)).toMatchObject({ status: "done", bytesDone: total, bytesTotal: total });
      const statuses = mine.map((e) => e.status);
      expect(statuses.indexOf("running")).toBeLessThan(statuses.indexOf("done"));

      const job = await s.api(`/api/downloads/${id}`);
      expect(job.body).toMatchObject({ id, status: "done", bytesDone: total, error: null });
      expect(job.body.finishedAt).toMatch(/^\d{4}-/);
      const repoDir = join(cacheDir, "models--acme--tiny");
      expect(readFileSync(join(repoDir, "blobs", sha1(FILES["tiny-Q4_K_M.gguf"])), "utf8")).toBe(
        FILES["tiny-Q4_K_M.gguf"],
      );
      expect(existsSync(join(repoDir, "snapshots", sha1("acme/tiny"), "tiny-Q8_0.gguf"))).toBe(false);

      const list = await s.api("/api/downloads");
      expect(list.body.downloads.map((d: { id: string }) => d.id)).toContain(id);
      const local = await s.api("/api/models/local");
      expect(local.body.hfCache.models.map((m: { repo: string }) => m.repo)).toEqual(["acme/tiny"]);
    } finally {
      stream.close();
    }
  });

  it("cancels a running download; a second cancel is a conflict", async () => {
    hub.setHang(true);
    try {
      const started = await s.api("/api/downloads", { body: { repo: "acme/tiny", revision: "main" } });
      expect(started.status).toBe(202);
      const id = started.body.id as string;
      await waitFor(async () => (await s.api(`/api/downloads/${id}`)).body.status === "running", "running");
      const status = await s.api("/api/status");
      expect(status.body.downloads).toMatchObject({ running: 1, jobs: [expect.objectContaining({ id })] });
      const duplicate = await s.api("/api/downloads", { body: { repo: "acme/tiny" } });
      expect(duplicate.status).toBe(409);

      const cancelled = await s.api(`/api/downloads/${id}/cancel`, { method: "POST" });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ id, status: "cancelled" });
      expect((await s.api(`/api/downloads/${id}/cancel`, { method: "POST" })).status).toBe(409);
      expect((await s.api("/api/status")).body.downloads.running).toBe(0);
    } finally {
      hub.setHang(false);
    }
  });

  it("validates the request and answers unknown jobs with 404", async () => {
    const bad = await s.api("/api/downloads", { body: { repo: "not a repo", include: [""] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: { field: string }) => f.field)).toEqual(
      expect.arrayContaining(["body.repo", "body.include.0"]),
    );
    expect((await s.api("/api/downloads/dl-000000000000")).status).toBe(404);
    expect((await s.api("/api/downloads/dl-000000000000/cancel", { method: "POST" })).status).toBe(404);
  });

  it("refuses downloads when the studio runs offline (HF_HUB_OFFLINE)", async () => {
    const offline = await startTestStudio({ env: studioEnv({ HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: "1" }) });
    try {
      const response = await offline.api("/api/downloads", { body: { repo: "acme/tiny" } });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toContain("HF_HUB_OFFLINE");
    } finally {
      await offline.close();
    }
  });
});

describe("runtime download cancellation", () => {
  it("aborts mid-file and removes the partial blob", async () => {
    const env = isolatedEnv({ HF_ENDPOINT: hub.url });
    delete env.HF_HUB_OFFLINE;
    const cache = join(mkdtempSync(join(tmpdir(), "sp-hf-")), "hub");
    env.HF_HUB_CACHE = cache;
    const controller = new AbortController();
    // Serves the first 1000 bytes of each file body, then stalls until aborted.
    const stalling: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const ranged = new Headers(init?.headers).has("range");
      if (!url.includes("/resolve/") || ranged || response.status !== 200 || !response.body) return response;
      const bytes = new Uint8Array(await response.arrayBuffer()).subarray(0, 1000);
      const body = new ReadableStream<Uint8Array>({
        start(stream) {
          stream.enqueue(bytes);
          init?.signal?.addEventListener("abort", () => stream.error(init.signal?.reason));
        },
      });
      return new Response(body, { status: 200, headers: response.headers });
    };
    const done = downloadToCache("acme/tiny", {
      env,
      include: ["tiny-Q4_K_M.gguf"],
      fetch: stalling,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.fileBytes >= 1000) controller.abort(new Error("cancelled by the test"));
      },
    });
    await expect(done).rejects.toThrow("cancelled by the test");
    const blobs = join(cache, "models--acme--tiny", "blobs");
    expect(existsSync(blobs) ? readdirSync(blobs) : []).toEqual([]);
  });
});
