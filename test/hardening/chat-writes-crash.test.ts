/**
 * Hardening: 1000 concurrent chat-message writes to a studio process that is killed with SIGKILL while
 * they arrive. After a restart every write the studio acknowledged (201 with the message) is present,
 * with its content, and the database passes SQLite's integrity check. (WAL with synchronous=NORMAL
 * loses nothing a committed transaction wrote when the process dies; only a power cut could.)
 */
import { mkdtempSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { findFreePort } from "../runtime/engines/emulator-process.js";
import { cleanUp, studioProcess, waitUntil } from "../studio/lifecycle-helpers.js";
import { studioEnv } from "../studio/studio-harness.js";

afterEach(cleanUp);

const agent = new Agent({ keepAlive: true, maxSockets: 200 });

/** POSTs JSON; resolves with the status and body, or null when the connection died. */
function post(url: string, body: unknown): Promise<{ status: number; body: string } | null> {
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", () => resolve(null));
      },
    );
    req.on("error", () => resolve(null));
    req.end(payload);
  });
}

it("every acknowledged write survives a SIGKILL in the middle of 1000 concurrent writes", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sp-chat-crash-"));
  const port = await findFreePort();
  const env = studioEnv();
  const first = await studioProcess(dataDir, port, env);
  const session = await first.api("/api/chats", { title: "crash test" });
  expect(session.status).toBe(201);
  const id = session.body.id as unknown as string;

  const acknowledged: Array<{ id: string; content: string }> = [];
  let killed = false;
  const writes = Array.from({ length: 1000 }, async (_, i) => {
    const reply = await post(`${first.url}/api/chats/${id}/messages`, {
      role: "user",
      content: `message ${i}`,
    });
    if (reply?.status === 201) {
      const message = JSON.parse(reply.body) as { id: string; content: string };
      acknowledged.push({ id: message.id, content: message.content });
      if (acknowledged.length === 300 && !killed) {
        killed = true;
        first.child.kill("SIGKILL");
      }
    }
  });
  await Promise.all(writes);
  expect(killed).toBe(true);
  expect(acknowledged.length).toBeGreaterThanOrEqual(300);
  expect(acknowledged.length).toBeLessThan(1000);

  const second = await studioProcess(dataDir, port, env);
  const stored = await waitUntil("the chat after restart", async () => {
    const reply = await second.api(`/api/chats/${id}`);
    return reply.status === 200 ? reply.body : null;
  });
  const messages = stored.messages as unknown as Array<{ id: string; content: string; seq: number }>;
  const byId = new Map(messages.map((m) => [m.id, m]));
  const missing = acknowledged.filter((a) => byId.get(a.id)?.content !== a.content);
  expect(missing).toEqual([]);
  // ordered by seq, no two messages share one
  const seqs = messages.map((m) => m.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  await second.kill();
  const db = new Database(join(dataDir, "studio.db"), { readonly: true });
  expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
  db.close();
}, 120_000);
