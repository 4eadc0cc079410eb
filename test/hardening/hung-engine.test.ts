/**
 * Hardening: an engine that hangs (accepts connections, never answers). The launch fails after its
 * timeout with a cause that says so, and nothing of the engine is left running. (The gateway's own
 * timeout on a hung engine is tested in test/studio/gateway-proxy.test.ts.)
 */
import { afterEach, expect, it } from "vitest";
import { ENGINE_FIXTURES } from "../runtime/engines/captured-lines.js";
import {
  cleanUp,
  enginePortBase,
  groupMembers,
  isInstanceEvent,
  openStudio,
  QWEN,
} from "../studio/lifecycle-helpers.js";
import { studioEnv } from "../studio/studio-harness.js";

afterEach(cleanUp);

it("a hung engine fails its launch with a cause that says it hangs, and is killed", async () => {
  const s = await openStudio({
    env: studioEnv({
      SERVEPILOT_VLLM_BIN: `${ENGINE_FIXTURES}hung-engine.mjs`,
      SERVEPILOT_PORT: enginePortBase(),
    }),
  });
  const events = await s.events();
  const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 6 } });
  expect(launched.status).toBe(202);
  await events.waitFor(isInstanceEvent("qwen3-8b", "failed"), 30_000, "failed");
  const view = (await s.api("/api/instances/qwen3-8b")).body;
  expect(view.failure).toMatchObject({ cause: "timeout" });
  expect(view.failure.message).toContain("never answered /health");
  expect(view.failure.message).toContain(String(view.port));
  expect(await groupMembers(launched.body.pid)).toEqual([]);
  // the gateway does not route to it
  expect((await s.api("/v1/chat/completions", { body: { model: QWEN, messages: [] } })).status).toBe(404);
}, 60_000);
