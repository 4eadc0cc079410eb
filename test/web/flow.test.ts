/**
 * The main end-to-end flow, entirely through the web UI in one browser page (headless Chromium,
 * playwright-core) against a real studio; the API is only read, to check what the UI shows:
 *
 * 1. Planner: plan a catalog model on a catalog GPU, see the verdict and the memory bar, save it as a
 *    recipe.
 * 2. Dashboard: quick-launch the embedded engine (llama.cpp inside the studio, CPU, 1 thread) on a tiny
 *    GGUF written at test time, follow its launch and see the instance become ready.
 * 3. Chat: a new chat on the running model, a message sent, the answer streamed in, then stored with
 *    its token counts.
 * 4. Usage: the requests and tokens of that model, as /api/usage has them.
 * 5. Dashboard: stop the instance.
 *
 * Screenshots go to test-results/flow-<n>-<page>.png. Skipped, saying why, when Chromium, the built UI
 * (npm run build) or the embedded engine (node-llama-cpp) is missing.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { isEmbeddedEngineInstalled } from "../../src/runtime/engines/embedded/index.js";
import { gatewayRecorder } from "../../src/studio/modules/gateway.js";
import { writeTinyGguf } from "../helpers/tiny-gguf.js";
import { cleanUp, openStudio, QWEN } from "../studio/lifecycle-helpers.js";
import { browserFor, missingFor, RESULTS } from "./browser.js";

const missing = missingFor(
  "test/web/flow.test.ts",
  (await isEmbeddedEngineInstalled()) ? null : "the embedded engine (node-llama-cpp) is not installed",
);

const browser = browserFor(missing);
let gguf = "";

beforeAll(async () => {
  if (missing) return;
  gguf = await writeTinyGguf(mkdtempSync(join(tmpdir(), "sp-flow-tiny-")));
});

afterEach(cleanUp);

async function shot(page: Page, name: string): Promise<void> {
  // from the top, or the sticky header lands in the middle of the full-page picture
  await page.evaluate("window.scrollTo(0, 0)");
  await page.screenshot({ path: `${RESULTS}${name}.png`, fullPage: true });
}

/** The numbers of a figure as the UI writes it ("1,234" → 1234). */
function count(text: string | null): number {
  return Number((text ?? "").replace(/[^\d]/g, ""));
}

interface StreamSamples {
  /** The streaming indicator was seen. */
  busy: boolean;
  /** The length of the streamed text at each render that changed it. */
  chars: number[];
}

describe.skipIf(missing !== null)("studio web UI: the end-to-end flow", () => {
  it("plans and saves a recipe, launches the embedded engine, chats, sees the usage and stops it", async () => {
    const s = await openStudio();
    const context = await browser().newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: "light",
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    const nav = page.getByRole("navigation");

    // 1. Planner: a catalog model on a catalog GPU → verdict, memory bar → Save as recipe
    await page.goto(`${s.url}/planner`);
    await page.getByRole("heading", { level: 1, name: "Planner" }).waitFor();
    await page.getByLabel("Model", { exact: true }).fill(QWEN);
    await page.getByLabel("GPU", { exact: true }).selectOption("h100-sxm");
    await page.getByLabel("GPU count").fill("1");
    await page.getByLabel("Context length").fill("8192");
    await page.getByLabel("Concurrency").fill("4");
    await page.getByRole("button", { name: "Plan", exact: true }).click();
    await expect.poll(() => page.getByTestId("verdict").textContent(), { timeout: 20_000 }).toBe("fits");
    const bar = page.locator(".memory-row .stack").first();
    await bar.waitFor();
    expect(await bar.getAttribute("aria-label")).toMatch(/^GPU 0: Weights [\d.]+ GiB, KV cache [\d.]+ GiB/);
    expect(await page.locator(".memory-row .stack .seg").count()).toBeGreaterThan(1);
    await page.getByRole("button", { name: "Save as recipe" }).click();
    const saved = page.getByTestId("saved-recipe");
    await saved.waitFor();
    const recipeId = (await saved.locator("code").textContent()) ?? "";
    expect(recipeId).not.toBe("");
    const recipes = (await s.api("/api/recipes")).body.recipes as Array<{
      id: string;
      source: string;
      recipe: { model: string };
    }>;
    expect(recipes.find((r) => r.id === recipeId)).toMatchObject({
      source: "studio",
      recipe: { model: QWEN },
    });
    await shot(page, "flow-1-planner");

    // 2. Dashboard: quick launch of the embedded engine on the tiny GGUF, one CPU thread
    await nav.getByRole("link", { name: "Dashboard" }).click();
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    await page.getByText("No instances yet").waitFor();
    const quick = page.locator("section", { has: page.getByRole("heading", { name: "Quick launch" }) });
    await quick.getByLabel("Model", { exact: true }).fill(gguf);
    await quick.getByLabel("Engine").selectOption("embedded");
    await quick.getByLabel("CPU threads").fill("1");
    await quick.getByRole("button", { name: "Launch", exact: true }).click();
    const launching = quick.getByRole("status");
    // "Launching X…", or already "X is ready." when the engine was quicker than this check
    const said = /^(?:Launching (\S+)…|(\S+) is ready\.)$/;
    await expect.poll(() => launching.textContent(), { timeout: 20_000 }).toMatch(said);
    const match = said.exec((await launching.textContent()) ?? "");
    const name = (match?.[1] ?? match?.[2]) as string;
    const launched = (await s.api(`/api/instances/${encodeURIComponent(name)}`)).body;
    expect(launched).toMatchObject({ engine: "embedded", model: gguf });

    // the launch panel follows the launch on the event stream, up to ready
    const launch = page.locator(`[data-launch="${name}"]`);
    await launch.waitFor({ timeout: 30_000 });
    await launch.getByRole("progressbar", { name: `${name} launch progress` }).waitFor();
    const row = page.locator(`tr[data-instance="${name}"]`);
    const status = row.getByTestId("instance-status");
    await expect.poll(async () => status.textContent().catch(() => null), { timeout: 120_000 }).toBe("ready");
    await expect
      .poll(() => launch.locator(".launch-head .badge").textContent(), { timeout: 10_000 })
      .toBe("ready");
    expect(await launch.getByRole("progressbar").getAttribute("value")).toBe("100");
    // the engine's last lines, each once (they come both on `launch` and on `log` events)
    const logTail = launch.locator(".log-tail");
    await expect
      .poll(async () => ((await logTail.textContent()) ?? "").split("\n").length, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(8);
    const tail = ((await logTail.textContent()) ?? "").split("\n");
    expect(new Set(tail).size).toBe(tail.length);
    expect(await row.locator('[data-label="Engine"]').textContent()).toMatch(/^embedded/);
    expect(await row.locator('[data-label="GPUs"]').textContent()).toBe("CPU");
    expect((await s.api(`/api/instances/${encodeURIComponent(name)}`)).body.status).toBe("ready");
    await shot(page, "flow-2-dashboard");

    // 3. Chat: a new chat on the running model, a message, the streamed answer and its tokens
    await nav.getByRole("link", { name: "Chat" }).click();
    await page.getByRole("heading", { level: 1, name: "Chat" }).waitFor();
    await page.getByRole("button", { name: "New chat" }).click();
    await page.waitForURL(/\/chat\/[^/]+$/);
    const chatId = new URL(page.url()).pathname.split("/").at(-1) as string;
    const gatewayModels = (await s.api("/v1/models")).body.data as Array<{
      id: string;
      servepilot?: { instance: string | null };
    }>;
    const model = gatewayModels.find((m) => m.servepilot?.instance === name)?.id as string;
    expect(model).toBeTruthy();
    const picker = page.getByLabel("Model", { exact: true });
    await expect.poll(() => picker.locator("option").allTextContents(), { timeout: 15_000 }).toContain(model);
    await picker.selectOption(model);
    await expect.poll(async () => (await s.api(`/api/chats/${chatId}`)).body.model).toBe(model);

    await page.getByText("Options", { exact: true }).click();
    await page.getByLabel("Max tokens").fill("64");
    const input = page.getByLabel("Message", { exact: true });
    await input.fill("Tell me a story.");
    // record how much of the answer the streaming message holds at each of its renders
    // (a script string: the tests' TypeScript has no DOM types)
    await page.evaluate(`(() => {
      const samples = { busy: false, chars: [] };
      window.__stream = samples;
      const list = document.querySelector("ol.messages");
      if (!list) throw new Error("no message list");
      new MutationObserver(() => {
        const live = list.querySelector('.message.assistant.streaming[aria-busy="true"]');
        if (!live) return;
        if (live.textContent.includes("streaming…")) samples.busy = true;
        const chars = Number(live.getAttribute("data-chars"));
        if (chars > 0 && chars !== samples.chars.at(-1)) samples.chars.push(chars);
      }).observe(list, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-chars"] });
    })()`);
    await input.press("Enter");

    const answer = page.locator('.message[data-role="assistant"][data-message]').first();
    await answer.waitFor({ timeout: 60_000 });
    await answer.getByTestId("message-tokens").waitFor({ timeout: 60_000 });
    expect(await answer.getByTestId("message-tokens").textContent()).toMatch(
      /^\d+ prompt · 64 completion tokens/,
    );
    await expect.poll(() => page.locator("#chat-status").textContent(), { timeout: 60_000 }).toMatch(/^Done/);
    expect(await page.locator('.message[data-role="user"][data-message]').first().textContent()).toContain(
      "Tell me a story.",
    );
    const stored = (await s.api(`/api/chats/${chatId}`)).body as {
      messages: Array<{ role: string; content: string }>;
    };
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    const final = stored.messages[1]?.content ?? "";
    expect(final.length).toBeGreaterThan(0);
    // the answer showed on the page while it streamed, never shrinking, up to the stored answer (how many
    // renders it took depends on how fast the tiny model writes against the browser's frames: with a
    // loaded CPU it can come in one; test/web/chat.test.ts stops a paced stream midway)
    const stream = await page.evaluate<StreamSamples>("window.__stream");
    expect(stream.busy).toBe(true);
    expect(stream.chars.length).toBeGreaterThan(0);
    expect(stream.chars).toEqual([...stream.chars].sort((a, b) => a - b));
    expect(stream.chars.at(-1)).toBeLessThanOrEqual(final.length);
    // the session's tokens (the answer and the title asked of the model), as the studio recorded them
    await gatewayRecorder(s.ctx).flush();
    const chatUsage = (await s.api(`/api/chats/${chatId}/usage`)).body as {
      requests: number;
      totalTokens: number;
    };
    expect(chatUsage.requests).toBe(2);
    await expect
      .poll(() => page.getByTestId("session-tokens").textContent(), { timeout: 20_000 })
      .toMatch(
        new RegExp(`^2 request\\(s\\) · \\d+ prompt \\+ \\d+ completion = ${chatUsage.totalTokens} tokens$`),
      );
    // the chat's row on the side has its tokens too
    await expect
      .poll(() => page.locator(`.chat-item[data-chat="${chatId}"] .chat-meta`).textContent(), {
        timeout: 20_000,
      })
      .toBe(`2 msg · ${chatUsage.totalTokens} tok · ${model}`);
    await shot(page, "flow-3-chat");

    // 4. Usage: the model's requests and tokens, as /api/usage has them
    const report = (await s.api("/api/usage?days=14")).body as {
      totals: { requests: number; promptTokens: number; completionTokens: number };
      byModel: Array<{ model: string; requests: number; promptTokens: number; completionTokens: number }>;
    };
    const modelRow = report.byModel.find((r) => r.model === model);
    expect(modelRow?.requests).toBe(chatUsage.requests);
    await nav.getByRole("link", { name: "Usage" }).click();
    await page.getByRole("heading", { level: 1, name: "Usage" }).waitFor();
    await expect
      .poll(async () => count(await page.getByTestId("total-requests").textContent()))
      .toBe(report.totals.requests);
    expect(count(await page.getByTestId("total-prompt").textContent())).toBe(report.totals.promptTokens);
    expect(count(await page.getByTestId("total-completion").textContent())).toBe(
      report.totals.completionTokens,
    );
    const byModel = page.getByRole("table", { name: "Usage by model" });
    const usageRow = byModel
      .getByRole("row")
      .filter({ has: page.getByRole("cell", { name: model, exact: true }) });
    await usageRow.waitFor();
    expect(count(await usageRow.locator('[data-label="Requests"]').textContent())).toBe(modelRow?.requests);
    await shot(page, "flow-4-usage");

    // 5. Dashboard: stop the instance
    await nav.getByRole("link", { name: "Dashboard" }).click();
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    await expect.poll(async () => status.textContent().catch(() => null), { timeout: 10_000 }).toBe("ready");
    await row.getByRole("button", { name: `Stop ${name}` }).click();
    await expect
      .poll(async () => status.textContent().catch(() => null), { timeout: 30_000 })
      .toBe("stopped");
    expect((await s.api(`/api/instances/${encodeURIComponent(name)}`)).body.status).toBe("stopped");
    expect(await row.locator('[data-label="Endpoint"]').textContent()).toBe("–");
    await expect
      .poll(() => page.locator(".page-head [aria-live]").textContent())
      .toBe("0 ready of 1 instance(s)");
    await shot(page, "flow-5-dashboard");

    expect(pageErrors).toEqual([]);
    await context.close();
  }, 240_000);
});
