/**
 * Engines outlive the studio: a studio process killed with SIGKILL while an engine runs is started
 * again and adopts the engine (same process, nothing duplicated); a studio stopped with its engines
 * (--stop-engines) and started with --restore relaunches them.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { listInstances } from "../../src/runtime/supervisor/state-store.js";
import { findFreePort } from "../runtime/engines/emulator-process.js";
import {
  cleanUp,
  enginePortBase,
  groupMembers,
  isInstanceEvent,
  openStudio,
  QWEN,
  studioProcess,
  trackDataDir,
  waitUntil,
} from "./lifecycle-helpers.js";
import { connectSse } from "./sse-client.js";
import { studioEnv } from "./studio-harness.js";

afterEach(cleanUp);

it("a studio killed with SIGKILL is restarted and adopts its running engine instead of starting another", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sp-studio-proc-"));
  trackDataDir(dataDir);
  const env = studioEnv({ SERVEPILOT_PORT: enginePortBase() });
  const port = await findFreePort();
  const first = await studioProcess(dataDir, port, env);
  const events = await connectSse(`${first.url}/api/events`);
  const launched = await first.api("/api/instances", { model: QWEN, name: "kept" });
  expect(launched.status).toBe(202);
  await events.waitFor(isInstanceEvent("kept", "ready"), 60_000, "ready");
  events.close();
  const pid = launched.body.pid as unknown as number;

  first.child.kill("SIGKILL");
  await new Promise((resolve) => first.child.once("exit", resolve));
  expect((await groupMembers(pid)).length).toBe(2);

  const second = await studioProcess(dataDir, port, env);
  // the server answers before its modules have started: wait for the adoption
  const one = await waitUntil("adopted", async () => {
    const response = await second.api("/api/instances/kept");
    return response.body.adopted ? response : null;
  });
  expect(one.body).toMatchObject({
    name: "kept",
    status: "ready",
    alive: true,
    healthy: true,
    adopted: true,
    pid,
  });
  // nothing else was started: the same process group, one record
  expect((await groupMembers(pid)).length).toBe(2);
  expect((await listInstances(dataDir)).map((r) => r.name)).toEqual(["kept"]);
  const status = (await second.api("/api/status")).body as unknown as { instances: unknown[] };
  expect(status.instances).toEqual([{ name: "kept", status: "ready" }]);

  // the adopted engine is watched: stop works, and leaves nothing
  const stopped = await second.api("/api/instances/kept/stop", { graceSeconds: 5 });
  expect(stopped.status).toBe(200);
  expect(await groupMembers(pid)).toEqual([]);
  second.child.kill("SIGTERM");
  await new Promise((resolve) => second.child.once("exit", resolve));
}, 120_000);

it("an in-process studio closed without --stop-engines leaves the engine for the next one to adopt", async () => {
  const s = await openStudio();
  const events = await s.events();
  const launched = await s.api("/api/instances", { body: { model: QWEN, name: "stays" } });
  await events.waitFor(isInstanceEvent("stays", "ready"), 60_000, "ready");
  await s.close();
  expect((await groupMembers(launched.body.pid)).length).toBe(2);
  const again = await openStudio({ dataDir: s.dataDir, env: s.env });
  const one = await again.api("/api/instances/stays");
  expect(one.body).toMatchObject({ status: "ready", alive: true, adopted: true, pid: launched.body.pid });
}, 120_000);

it("--restore relaunches what a --stop-engines shutdown stopped, but not what was stopped on purpose", async () => {
  const s = await openStudio({ stopEngines: true });
  const events = await s.events();
  const kept = await s.api("/api/instances", { body: { model: QWEN, name: "wanted" } });
  await s.api("/api/instances", { body: { model: QWEN, name: "unwanted" } });
  await events.waitFor(isInstanceEvent("wanted", "ready"), 60_000, "wanted ready");
  await events.waitFor(isInstanceEvent("unwanted", "ready"), 60_000, "unwanted ready");
  expect((await s.api("/api/instances/unwanted/stop", { body: { graceSeconds: 5 } })).status).toBe(200);
  await s.close();
  expect(await groupMembers(kept.body.pid)).toEqual([]);
  expect((await listInstances(s.dataDir)).every((r) => r.status === "stopped")).toBe(true);

  const restored = await openStudio({ dataDir: s.dataDir, env: s.env, restore: true });
  await waitUntil("wanted ready again", async () => {
    const one = await restored.api("/api/instances/wanted");
    return one.body.status === "ready" && one.body.alive && one.body.pid !== kept.body.pid;
  });
  expect((await restored.api("/api/instances/unwanted")).body.status).toBe("stopped");
}, 120_000);
