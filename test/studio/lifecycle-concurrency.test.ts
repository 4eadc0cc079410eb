/**
 * Many lifecycle requests at once: 20 launches and switches fired together against one studio end with
 * one engine per GPU set and a consistent state (every live record has exactly one live process group,
 * no GPU index is held twice, no stray emulator process).
 */
import { afterEach, expect, it } from "vitest";
import { listInstances } from "../../src/runtime/supervisor/state-store.js";
import { cleanUp, groupMembers, openStudio, QWEN, waitUntil } from "./lifecycle-helpers.js";

afterEach(cleanUp);

it("20 concurrent launch and switch requests end with exactly one engine per GPU set", async () => {
  const s = await openStudio();
  const requests = Array.from({ length: 20 }, (_, i) => {
    if (i % 4 === 3) {
      // switch away from an instance an earlier request may (or may not) have created
      return s.api("/api/instances/switch", {
        body: { stop: `m-${i - 3}`, launch: { model: QWEN, name: `m-${i}`, gpuCount: 2 } },
      });
    }
    return s.api("/api/instances", { body: { model: QWEN, name: `m-${i}`, gpuCount: i % 2 === 0 ? 1 : 2 } });
  });
  const responses = await Promise.all(requests);
  for (const response of responses) {
    // started, or refused cleanly: no free GPU (422), or a switch from an instance not there / not running
    expect([202, 404, 409, 422], JSON.stringify(response.body)).toContain(response.status);
  }
  const accepted = responses.filter((r) => r.status === 202).length;
  expect(accepted).toBeGreaterThan(0);

  // every accepted launch settles (ready, or stopped by a later switch)
  await waitUntil(
    "every launch settled",
    async () => {
      const list = (await s.api("/api/instances")).body.instances as Array<{ status: string }>;
      return list.every((i) => i.status === "ready" || i.status === "stopped" || i.status === "failed");
    },
    120_000,
    250,
  );
  const list = (await s.api("/api/instances")).body.instances as Array<{
    name: string;
    status: string;
    alive: boolean;
    pid: number;
    gpus: Array<{ index: number }>;
  }>;
  const live = list.filter((i) => i.alive);
  expect(live.every((i) => i.status === "ready")).toBe(true);
  const held = live.flatMap((i) => i.gpus.map((g) => g.index));
  expect(new Set(held).size).toBe(held.length);
  expect(held.every((index) => index >= 0 && index < 8)).toBe(true);
  // one process group per live record, each the emulator's two processes; none for the others
  for (const instance of live) expect((await groupMembers(instance.pid)).length).toBe(2);
  for (const instance of list.filter((i) => !i.alive && i.pid !== null))
    expect(await groupMembers(instance.pid)).toEqual([]);
  const records = await listInstances(s.dataDir);
  expect(records.filter((r) => r.status === "ready").length).toBe(live.length);
  const status = (await s.api("/api/status")).body;
  expect(status.launching).toEqual([]);
}, 240_000);
