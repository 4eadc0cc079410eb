/**
 * Hardening: lifetime totals across a SIGKILL. A studio process counts an engine (the vLLM emulator),
 * writes its totals, counts more tokens it has not written yet, and is killed. The next studio on the
 * same data directory finds the same engine process and reaches exactly the engine's own counter:
 * what the killed studio had not written, and what was served while no studio ran, counted once.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { writeInstance } from "../../src/runtime/supervisor/state-store.js";
import {
  findFreePort,
  type RunningEmulator,
  startEmulator,
  stopEmulator,
  waitForReady,
} from "../runtime/engines/emulator-process.js";
import { cleanUp, studioProcess, waitUntil } from "../studio/lifecycle-helpers.js";
import { chat, emulatorGenerationTokens, recordFor } from "../studio/metrics-helpers.js";
import { studioEnv } from "../studio/studio-harness.js";

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await cleanUp();
  await stopEmulator(emulator);
});

/** The generation tokens the studio's SQLite file holds (what was written, not what is in memory). */
function writtenTokens(dataDir: string): number {
  const db = new Database(join(dataDir, "studio.db"), { readonly: true });
  try {
    const row = db.prepare("select value from lifetime_metrics where key = 'generation_tokens'").get() as
      | { value: number }
      | undefined;
    return row?.value ?? 0;
  } finally {
    db.close();
  }
}

it("a studio killed with tokens counted but not written: the next one counts them, and what came after, once", async () => {
  emulator = await startEmulator("ok", { env: { EMULATOR_TOKEN_DELAY_MS: "1" } });
  await waitForReady(emulator);
  const engine = emulator;
  const dataDir = mkdtempSync(join(tmpdir(), "sp-metrics-crash-"));
  const port = await findFreePort();
  const env = studioEnv();
  const lifetime = async (s: Awaited<ReturnType<typeof studioProcess>>) =>
    ((await s.api("/api/metrics/lifetime")).body.totals as unknown as { generation_tokens: number })
      .generation_tokens;

  const first = await studioProcess(dataDir, port, env);
  const record = recordFor(dataDir, engine, "emu");
  await writeInstance(dataDir, record);
  await chat(engine, "counted and written");
  const written = await emulatorGenerationTokens(engine);
  await waitUntil(
    "the first studio to write the engine's counter",
    async () => writtenTokens(dataDir) === written,
    20_000,
  );

  // counted in memory, then killed before the next write (writes come every 5 s)
  await chat(engine, "counted, not written");
  const counted = await emulatorGenerationTokens(engine);
  await waitUntil(
    "the first studio to count the second request",
    async () => (await lifetime(first)) === counted,
    10_000,
    20,
  );
  // (the kill nearly always lands before the next write; if not, the result must be the same)
  await first.kill();

  await chat(engine, "served while no studio runs");
  const served = await emulatorGenerationTokens(engine);
  const second = await studioProcess(dataDir, port, env);
  // the same engine process (same readyAt), as the first studio recorded it
  await writeInstance(dataDir, record);
  await waitUntil(
    "the second studio to reach the engine's counter",
    async () => (await lifetime(second)) === served,
    20_000,
  );
  // later scrapes add nothing: nothing was counted twice
  const scrapedAt = async () => (await second.api("/api/metrics/emu")).body.scrapedAt as unknown as string;
  const seen = await scrapedAt();
  await waitUntil("a later scrape", async () => (await scrapedAt()) !== seen, 20_000);
  expect(await lifetime(second)).toBe(served);
  await waitUntil("the second studio to write it", async () => writtenTokens(dataDir) === served, 20_000);
}, 120_000);
