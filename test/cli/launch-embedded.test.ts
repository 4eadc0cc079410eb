/**
 * End to end with a real engine: `servepilot launch` starts the embedded engine (llama.cpp through
 * node-llama-cpp) on a tiny GGUF written at test time, a chat completion streams real tokens, `stop`
 * ends it and no process of it is left. Also the foreground launch, stopped by Ctrl-C (SIGINT).
 * One thread: ggml's worker threads spin while waiting, which a test run's busy cores punish.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isEmbeddedEngineInstalled } from "../../src/runtime/engines/embedded/index.js";
import { processGroupMembers, readProcessIdentity } from "../../src/runtime/supervisor/process-identity.js";
import { isolatedEnv, runCli, runCliAsync } from "../helpers/run-cli.js";
import { writeTinyGguf } from "../helpers/tiny-gguf.js";

const installed = await isEmbeddedEngineInstalled();
const BIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;

let model = "";
beforeAll(async () => {
  model = await writeTinyGguf(mkdtempSync(join(tmpdir(), "sp-tiny-")));
});

function env() {
  return isolatedEnv({ SERVEPILOT_HOME: mkdtempSync(join(tmpdir(), "sp-embedded-")) });
}

/** The content deltas and the usage of an SSE chat completion stream. */
async function streamChat(endpoint: string, name: string) {
  const response = await fetch(`${endpoint}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: name,
      messages: [{ role: "user", content: "Say something." }],
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
  const text = await response.text();
  const events = text
    .split("\n\n")
    .map((block) => block.trim())
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice("data: ".length));
  expect(events.at(-1)).toBe("[DONE]");
  const chunks = events.slice(0, -1).map((data) => JSON.parse(data));
  const contents = chunks.flatMap((c) =>
    c.choices?.[0]?.delta?.content ? [c.choices[0].delta.content] : [],
  );
  const usage = chunks.find((c) => c.usage)?.usage;
  return { contents, usage };
}

describe.skipIf(!installed)("launch the embedded engine (node-llama-cpp)", () => {
  it("launch --detach, stream a chat completion, stop: no process left", async () => {
    const e = env();
    const launched = await runCliAsync(
      ["launch", model, "--engine", "embedded", "--threads", "1", "--detach", "--json"],
      e,
    );
    expect(launched.code, launched.stderr).toBe(0);
    const data = launched.json().data;
    expect(data).toMatchObject({ engine: "embedded", recipeId: "embedded", status: "ready", gpus: [] });

    const { contents, usage } = await streamChat(data.endpoint, data.servedModelName);
    expect(contents.length).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBeLessThanOrEqual(8);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);

    const metrics = await (await fetch(`${data.endpoint}/metrics`)).text();
    expect(metrics).toMatch(/^llamacpp:tokens_predicted_total \d+/m);

    const stop = await runCliAsync(["stop", data.name, "--json"], e);
    expect(stop.code).toBe(0);
    expect(stop.json().data).toMatchObject({ wasRunning: true, remaining: [] });
    expect(await processGroupMembers(data.pid)).toEqual([]);
    expect(await readProcessIdentity(data.pid)).toBeNull();
  });

  it("a foreground launch serves until Ctrl-C, then stops the engine", async () => {
    const e = env();
    const child = spawn(
      process.execPath,
      [BIN, "launch", model, "--engine", "embedded", "--threads", "1", "--json"],
      {
        env: e,
      },
    );
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    // the envelope is printed once the engine is ready
    for (let i = 0; i < 600 && !stdout.includes("}\n"); i++) await new Promise((r) => setTimeout(r, 50));
    const data = JSON.parse(stdout).data;
    expect(data.status).toBe("ready");
    expect((await streamChat(data.endpoint, data.servedModelName)).contents.length).toBeGreaterThan(0);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(await processGroupMembers(data.pid)).toEqual([]);
    const status = runCli(["status", data.name, "--json"], e);
    expect(status.json().data).toMatchObject({ status: "stopped", alive: false });
  });
});
