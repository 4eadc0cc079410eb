/**
 * Accessibility of every page, checked by axe-core (the engine behind Lighthouse's accessibility audit)
 * in headless Chromium against a real studio with an instance running, a plan shown and a chat held:
 * WCAG 2.1 A and AA rules (labels, names, roles, contrast, landmarks …), in the light and the dark
 * theme. Any violation fails, listed with the elements it concerns. On the way, every request the pages
 * make must go to the studio itself: nothing is loaded from the network.
 */
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp, isInstanceEvent, openStudio, QWEN } from "../studio/lifecycle-helpers.js";
import { browserFor, missingFor } from "./browser.js";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

const missing = missingFor("test/web/a11y.test.ts");

const browser = browserFor(missing);
afterEach(cleanUp);

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

async function audit(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate<Violation[]>(`
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
      .then((r) => r.violations)
  `);
  return violations.flatMap((v) =>
    v.nodes.map((n) => `${v.id} (${v.impact}): ${v.help} at ${n.target.join(" ")}`),
  );
}

describe.skipIf(missing !== null)("studio web UI accessibility", () => {
  it("every page passes axe-core's WCAG 2.1 AA rules in both themes", async () => {
    const s = await openStudio();
    const events = await s.events();
    const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 60 } });
    expect(launched.status).toBe(202);
    await events.waitFor(isInstanceEvent(launched.body.name, "ready"), 30_000, "ready");
    const chat = await s.api("/api/chats", { body: { model: "qwen3-8b" } });
    await s.api(`/api/chats/${chat.body.id}/messages`, { body: { role: "user", content: "Hello" } });
    await s.api(`/api/chats/${chat.body.id}/messages`, {
      body: { role: "assistant", content: "Hi! Here is `code`:\n\n```python\nprint(1)\n```" },
    });

    const found: string[] = [];
    // nothing may come from anywhere but the studio (no CDN, no web fonts, no analytics)
    const foreign: string[] = [];
    for (const scheme of ["light", "dark"] as const) {
      const context = await browser().newContext({
        viewport: { width: 1280, height: 900 },
        colorScheme: scheme,
      });
      const page = await context.newPage();
      page.on("request", (request) => {
        const url = new URL(request.url());
        if (url.origin !== s.url && url.protocol !== "data:" && url.protocol !== "blob:")
          foreign.push(url.href);
      });
      const visit = async (path: string, heading: string, prepare?: () => Promise<void>) => {
        await page.goto(`${s.url}${path}`);
        await page.getByRole("heading", { level: 1, name: heading }).waitFor();
        await prepare?.();
        // let data-driven parts render (tables, charts) before auditing
        await expect
          .poll(
            () =>
              page
                .locator("main")
                .getByText(/^Loading/)
                .count(),
            { timeout: 20_000 },
          )
          .toBe(0);
        for (const line of await audit(page)) found.push(`[${scheme}] ${path}: ${line}`);
      };
      await visit("/", "Dashboard", async () => {
        await page.locator("[data-instance]").first().waitFor();
      });
      await visit("/planner", "Planner", async () => {
        await page.getByLabel("Model", { exact: true }).fill(QWEN);
        await page.getByRole("button", { name: "Plan", exact: true }).click();
        await page.getByTestId("verdict").waitFor({ timeout: 20_000 });
      });
      await visit("/recipes", "Recipes");
      await visit(`/chat/${chat.body.id}`, "Chat", async () => {
        await page.locator(".message[data-message]").nth(1).waitFor();
      });
      await visit("/usage", "Usage");
      await visit("/models", "Models");
      await visit("/logs", "Logs");
      await visit("/settings", "Settings");
      await context.close();
    }
    expect(found).toEqual([]);
    expect(foreign).toEqual([]);
  }, 120_000);
});
