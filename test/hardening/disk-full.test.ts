/**
 * Hardening: the disk holding the data directory fills up (a small tmpfs mounted for the test; the test
 * is skipped, saying why, where mounting is not allowed). The studio keeps serving reads and gateway
 * traffic, refuses writes with 507 STORAGE_FULL, reports the held request log in /api/status, and
 * once space returns writes again, with every gateway request recorded (none lost).
 */
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayRecorder } from "../../src/studio/modules/gateway.js";
import { validRecipe } from "../studio/catalog-helpers.js";
import {
  cleanUp,
  enginePortBase,
  isInstanceEvent,
  openStudio,
  QWEN,
  waitUntil,
} from "../studio/lifecycle-helpers.js";
import { studioEnv } from "../studio/studio-harness.js";

const mountPoint = mkdtempSync(join(tmpdir(), "sp-diskfull-"));
let mounted = false;
try {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", mountPoint], { stdio: "ignore" });
  mounted = true;
} catch {
  console.warn(`disk-full test skipped: cannot mount a tmpfs at ${mountPoint} (needs root / CAP_SYS_ADMIN)`);
}

beforeAll(() => undefined);
afterAll(async () => {
  await cleanUp();
  if (mounted) execFileSync("umount", ["-l", mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Fills the filesystem: a file as large as the free space (then the last bytes one by one). */
function fill(dir: string): string {
  const filler = join(dir, "filler");
  const free = Number(
    execFileSync("df", ["--output=avail", "-B1", dir], { encoding: "utf8" }).split("\n")[1],
  );
  try {
    execFileSync("fallocate", ["-l", String(free), filler]);
  } catch {
    // fallocate may refuse the last blocks: write what fits
  }
  for (let i = 0; i < 64; i++) {
    try {
      writeFileSync(join(dir, `crumb-${i}`), Buffer.alloc(4096));
    } catch {
      break;
    }
  }
  return filler;
}

describe.skipIf(!mounted)("disk full", () => {
  it("keeps serving, refuses writes with 507, holds the request log, and recovers without losing rows", async () => {
    const dataDir = join(mountPoint, "data");
    // the studio's own log goes to a file off the full disk (the CLI logs to stdout)
    const logFile = join(mkdtempSync(join(tmpdir(), "sp-diskfull-log-")), "studio.log");
    const s = await openStudio({
      dataDir,
      env: studioEnv({ SERVEPILOT_PORT: enginePortBase() }),
      logStream: createWriteStream(logFile),
    });
    const events = await s.events();
    expect((await s.api("/api/instances", { body: { model: QWEN } })).status).toBe(202);
    await events.waitFor(isInstanceEvent("qwen3-8b", "ready"), 60_000, "ready");

    fill(mountPoint);
    // writes now fail: recipes until SQLite runs out of room in its WAL
    const recipe = (i: number) => validRecipe({ id: `full-${i}`, notes: "x".repeat(4000) });
    let refused: Awaited<ReturnType<typeof s.api>> | null = null;
    for (let i = 0; i < 500 && refused === null; i++) {
      const reply = await s.api("/api/recipes", { body: recipe(i) });
      if (reply.status !== 201) refused = reply;
    }
    expect(
      refused?.status,
      `${JSON.stringify(refused?.body)}\n${readFileSync(logFile, "utf8").slice(-3000)}`,
    ).toBe(507);
    expect(refused?.body.error.code).toBe("STORAGE_FULL");

    // reads and the gateway keep working; the gateway's rows are held
    expect((await s.api("/api/health")).status).toBe(200);
    expect((await s.api("/api/instances")).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const chat = await s.api("/v1/chat/completions", {
        body: { model: QWEN, messages: [{ role: "user", content: `hi ${i}` }], max_tokens: 3 },
      });
      expect(chat.status).toBe(200);
    }
    await gatewayRecorder(s.ctx).flush();
    const status = await s.api("/api/status");
    expect(status.body.requestLog).toMatchObject({ ok: false, queued: 5, dropped: 0 });

    // space returns: the held rows are written, writes succeed again
    rmSync(join(mountPoint, "filler"), { force: true });
    for (let i = 0; i < 64; i++) rmSync(join(mountPoint, `crumb-${i}`), { force: true });
    await waitUntil("the request log to be written", async () => {
      const log = (await s.api("/api/status")).body.requestLog;
      return log.ok && log.queued === 0 ? true : null;
    });
    const rows = await s.ctx.db.selectFrom("requests").select(["status"]).execute();
    expect(rows).toHaveLength(5);
    expect((await s.api("/api/recipes", { body: recipe(9999) })).status).toBe(201);
  }, 120_000);
});
