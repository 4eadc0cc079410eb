/**
 * Hardening, faults with real processes: an engine killed with SIGKILL in the middle of a streamed
 * response through the gateway. The client gets an error event and a terminated stream, the request
 * is recorded as failed, the watchdog marks the instance failed (its launch did not ask for restarts)
 * or restarts it (when it did), and no process of the engine is left.
 */
import { afterEach, describe, expect, it } from "vitest";
import { readInstance } from "../../src/runtime/supervisor/state-store.js";
import { gatewayRecorder } from "../../src/studio/modules/gateway.js";
import {
  cleanUp,
  enginePortBase,
  groupMembers,
  isInstanceEvent,
  openStudio,
  QWEN,
  waitUntil,
} from "../studio/lifecycle-helpers.js";
import { studioEnv } from "../studio/studio-harness.js";

afterEach(cleanUp);

/** Reads an SSE response until it ends; calls `onFirst` at the first content event. */
async function readStream(response: Response, onFirst: () => void) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  let fired = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (!fired && text.includes('"content":"H')) {
      fired = true;
      onFirst();
    }
  }
  return text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6));
}

describe("engine killed mid-stream", () => {
  for (const autoRestart of [false, true]) {
    it(`the client gets an error event, the request is recorded failed, the watchdog ${autoRestart ? "restarts it" : "marks it failed"}, nothing is left`, async () => {
      // 13 tokens, 100 ms apart: the stream lasts over a second
      const s = await openStudio({
        env: studioEnv({ EMULATOR_TOKEN_DELAY_MS: "100", SERVEPILOT_PORT: enginePortBase() }),
      });
      const events = await s.events();
      expect((await s.api("/api/instances", { body: { model: QWEN, autoRestart } })).status).toBe(202);
      await events.waitFor(isInstanceEvent("qwen3-8b", "ready"), 60_000, "ready");
      const record = await readInstance(s.dataDir, "qwen3-8b");
      const pgid = record?.pgid as number;
      expect(pgid).toBeGreaterThan(0);

      const response = await fetch(`${s.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: QWEN, messages: [{ role: "user", content: "hi" }], stream: true }),
      });
      expect(response.status).toBe(200);
      const data = await readStream(response, () => process.kill(-pgid, "SIGKILL"));
      expect(data.at(-1)).toBe("[DONE]");
      const error = JSON.parse(data.at(-2) as string);
      expect(error.error).toMatchObject({ type: "server_error", code: "upstream_error" });
      expect(error.error.message).toContain("qwen3-8b");

      await gatewayRecorder(s.ctx).flush();
      const rows = await s.ctx.db.selectFrom("requests").selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 502, instance: "qwen3-8b" });
      expect(rows[0]?.error).toContain("closed the stream");

      if (autoRestart) {
        await waitUntil("a second ready (the watchdog's restart)", async () =>
          events.events.filter(isInstanceEvent("qwen3-8b", "ready")).length >= 2 ? true : null,
        );
        const restarted = await readInstance(s.dataDir, "qwen3-8b");
        expect(restarted?.pgid).not.toBe(pgid);
        // the restarted engine serves the gateway again
        const again = await fetch(`${s.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: QWEN, messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
        });
        expect(again.status).toBe(200);
      } else {
        await events.waitFor(isInstanceEvent("qwen3-8b", "failed"), 30_000, "marked failed");
        const gone = await s.api("/v1/models");
        expect(gone.body.data).toEqual([]);
      }
      await waitUntil("no process of the killed engine", async () =>
        (await groupMembers(pgid)).length === 0 ? true : null,
      );
    });
  }
});
