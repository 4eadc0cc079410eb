/**
 * Hardening: the studio process killed with SIGKILL in the middle of a launch and in the middle of a
 * switch, then started again on the same data dir. Engines are adopted or cleaned up, never
 * duplicated (one process group per instance, at most one instance per GPU set), and the database
 * passes SQLite's integrity check.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { listInstances } from "../../src/runtime/supervisor/state-store.js";
import { findFreePort } from "../runtime/engines/emulator-process.js";
import {
  cleanUp,
  enginePortBase,
  groupMembers,
  isInstanceEvent,
  QWEN,
  studioProcess,
  waitUntil,
} from "../studio/lifecycle-helpers.js";
import { connectSse } from "../studio/sse-client.js";
import { studioEnv } from "../studio/studio-harness.js";

afterEach(cleanUp);

function integrity(dataDir: string): string {
  const db = new Database(join(dataDir, "studio.db"), { readonly: true });
  try {
    return (db.pragma("integrity_check", { simple: true }) as string) ?? "";
  } finally {
    db.close();
  }
}

/** Live engines per instance, and GPU sets held by more than one live instance. */
async function liveEngines(dataDir: string) {
  const records = await listInstances(dataDir);
  const live: Array<{ name: string; gpus: string; members: number }> = [];
  for (const record of records) {
    const members = record.pgid === null ? [] : await groupMembers(record.pgid);
    if (members.length > 0)
      live.push({
        name: record.name,
        gpus: record.gpus.map((g) => g.index).join(","),
        members: members.length,
      });
  }
  const byGpus = new Map<string, string[]>();
  for (const engine of live) byGpus.set(engine.gpus, [...(byGpus.get(engine.gpus) ?? []), engine.name]);
  return { live, shared: [...byGpus.values()].filter((names) => names.length > 1) };
}

describe("studio killed with SIGKILL", () => {
  it("during a launch: the restarted studio adopts the loading engine and sees it ready; nothing doubles", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sp-crash-launch-"));
    const env = studioEnv({
      EMULATOR_SCENARIO: "slow-start",
      EMULATOR_READY_DELAY_MS: "4000",
      SERVEPILOT_PORT: enginePortBase(),
    });
    const port = await findFreePort();
    const first = await studioProcess(dataDir, port, env);
    const events = await connectSse(`${first.url}/api/events`);
    const launched = await first.api("/api/instances", { model: QWEN, name: "loading", timeoutSeconds: 60 });
    expect(launched.status).toBe(202);
    await events.waitFor(
      (e) => e.type === "launch" && e.data.instance === "loading" && e.data.phase === "loading-weights",
      30_000,
      "loading weights",
    );
    events.close();
    await first.kill();
    const pgid = (await listInstances(dataDir))[0]?.pgid as number;
    expect((await groupMembers(pgid)).length).toBeGreaterThan(0);

    const second = await studioProcess(dataDir, port, env);
    const ready = await waitUntil(
      "the adopted launch to become ready",
      async () => {
        const one = await second.api("/api/instances/loading");
        return one.body.status === "ready" ? one : null;
      },
      60_000,
    );
    expect(ready.body).toMatchObject({ adopted: true, alive: true });
    const { live, shared } = await liveEngines(dataDir);
    expect(live.map((e) => e.name)).toEqual(["loading"]);
    expect(shared).toEqual([]);
    expect((await listInstances(dataDir)).length).toBe(1);
    await second.kill();
    expect(integrity(dataDir)).toBe("ok");
  }, 120_000);

  it("during a switch: after restart each GPU set has at most one engine and the state is consistent", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sp-crash-switch-"));
    const env = studioEnv({ SERVEPILOT_PORT: enginePortBase() });
    const port = await findFreePort();
    const first = await studioProcess(dataDir, port, env);
    const events = await connectSse(`${first.url}/api/events`);
    expect((await first.api("/api/instances", { model: QWEN, name: "model-a" })).status).toBe(202);
    await events.waitFor(isInstanceEvent("model-a", "ready"), 60_000, "model-a ready");
    // the switch is under way (its answer says B is starting) when the studio dies
    const switched = await first.api("/api/instances/switch", {
      stop: "model-a",
      launch: { model: QWEN, name: "model-b" },
    });
    expect(switched.status).toBe(202);
    events.close();
    await first.kill();

    const second = await studioProcess(dataDir, port, env);
    const settled = await waitUntil(
      "a settled state",
      async () => {
        const list = (await second.api("/api/instances")).body.instances as unknown as Array<{
          name: string;
          status: string;
        }>;
        return list.every((i) => i.status !== "starting" && i.status !== "stopping") ? list : null;
      },
      60_000,
    );
    const statuses = Object.fromEntries(settled.map((i) => [i.name, i.status]));
    expect(statuses["model-a"]).toBe("stopped");
    expect(["ready", "failed"]).toContain(statuses["model-b"]);
    const { live, shared } = await liveEngines(dataDir);
    expect(shared).toEqual([]);
    expect(live.map((e) => e.name)).toEqual(statuses["model-b"] === "ready" ? ["model-b"] : []);
    await second.kill();
    expect(integrity(dataDir)).toBe("ok");
  }, 120_000);
});
