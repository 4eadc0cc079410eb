/**
 * The studio's web UI in a real browser: headless Chromium (playwright-core, /usr/bin/chromium or
 * $CHROMIUM_PATH) against a real studio serving dist/web, with the fake GPU tools and the vLLM
 * emulator. Screenshots of each page go to test-results/. Skipped, saying why, when Chromium or the
 * built UI (npm run build) is missing.
 */
import type { Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp, openStudio, QWEN } from "../studio/lifecycle-helpers.js";
import { browserFor, missingFor, RESULTS } from "./browser.js";

const missing = missingFor("test/web/ui.test.ts");

const browser = browserFor(missing);

afterEach(cleanUp);

async function newPage(width = 1280, height = 900): Promise<Page> {
  const context = await browser().newContext({ viewport: { width, height }, colorScheme: "light" });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${RESULTS}${name}.png`, fullPage: true });
}

describe.skipIf(missing !== null)("studio web UI", () => {
  it("serves the app with cache headers and answers client-side routes with index.html", async () => {
    const s = await openStudio();
    const index = await fetch(`${s.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const html = await index.text();
    expect(html).toContain('<div id="root">');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const script = await fetch(`${s.url}${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get("cache-control")).toContain("immutable");
    for (const route of [
      "/planner",
      "/recipes",
      "/chat",
      "/usage",
      "/models",
      "/logs",
      "/settings",
      "/chat/abc",
    ]) {
      const response = await fetch(`${s.url}${route}`);
      expect(response.status, route).toBe(200);
      expect(response.headers.get("content-type"), route).toContain("text/html");
    }
    const unknown = await s.api("/api/nothing-here");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("NOT_FOUND");
    expect((await s.api("/metrics")).headers.get("content-type")).toContain("text/plain");
  });

  it("the dashboard shows the GPUs and an instance launched through the API becoming ready", async () => {
    const s = await openStudio();
    const page = await newPage();
    await page.goto(`${s.url}/`);
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.getByText("No instances yet").waitFor();
    await page.locator(".gpu").first().waitFor();
    expect(await page.locator(".gpu").count()).toBe(8);

    const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 60 } });
    expect(launched.status).toBe(202);
    const name = launched.body.name as string;
    const status = page.locator(`tr[data-instance="${name}"] [data-testid="instance-status"]`);
    await expect.poll(async () => status.textContent().catch(() => null), { timeout: 20_000 }).toBe("ready");
    // the launch panel followed the launch on the event stream
    await page.locator(`[data-launch="${name}"]`).waitFor();
    await page.waitForTimeout(2500); // a few chart samples
    await shot(page, "dashboard");

    const mobile = await newPage(375, 800);
    await mobile.goto(`${s.url}/`);
    await mobile.locator(`tr[data-instance="${name}"]`).waitFor();
    const overflow = await mobile.evaluate<number>("document.documentElement.scrollWidth");
    expect(overflow).toBeLessThanOrEqual(375);
    await mobile.getByRole("button", { name: "Menu" }).click();
    await mobile.getByRole("link", { name: "Planner" }).waitFor();
    await shot(mobile, "dashboard-gpus-375px");
    await mobile.context().close();

    await page.getByRole("button", { name: `Restart ${name}` }).click();
    await expect
      .poll(async () => (await s.api(`/api/instances/${name}`)).body.pid, { timeout: 20_000 })
      .not.toBe(launched.body.pid);
    await expect.poll(async () => status.textContent().catch(() => null), { timeout: 20_000 }).toBe("ready");
    await page.getByRole("button", { name: `Stop ${name}` }).click();
    await expect
      .poll(async () => status.textContent().catch(() => null), { timeout: 20_000 })
      .toBe("stopped");
    await page.context().close();
  });

  it("the planner plans a catalog model and saves it as a recipe", async () => {
    const s = await openStudio();
    const page = await newPage();
    await page.goto(`${s.url}/planner`);
    await page.getByRole("heading", { name: "Planner" }).waitFor();
    await page.getByLabel("Model").fill(QWEN);
    await page.getByLabel("GPU", { exact: true }).selectOption("h100-sxm");
    await page.getByLabel("GPU count").fill("1");
    await page.getByLabel("Context length").fill("8192");
    await page.getByLabel("Concurrency").fill("8");
    await page.getByRole("button", { name: "Plan", exact: true }).click();
    await expect.poll(() => page.getByTestId("verdict").textContent(), { timeout: 15_000 }).toBe("fits");
    await page.locator(".memory-row").first().waitFor();
    await page.getByRole("tab", { name: "serve.sh" }).waitFor();
    await page.getByRole("button", { name: "Save as recipe" }).click();
    const saved = page.getByTestId("saved-recipe");
    await saved.waitFor();
    const id = await saved.locator("code").textContent();
    expect(id).toBeTruthy();
    const recipe = await s.api(`/api/recipes/${id}`);
    expect(recipe.status).toBe(200);
    expect(recipe.body.source).toBe("studio");
    await shot(page, "planner");

    // the other pages render (client-side navigation), in the dark theme too
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    for (const [label, path] of [
      ["Recipes", "recipes"],
      ["Chat", "chat"],
      ["Usage", "usage"],
      ["Models", "models"],
      ["Logs", "logs"],
      ["Settings", "settings"],
    ] as const) {
      await page.getByRole("navigation").getByRole("link", { name: label }).click();
      await page.getByRole("heading", { level: 1, name: label }).waitFor();
      await shot(page, path);
    }
    expect(await page.evaluate<string>("document.documentElement.dataset.theme")).toBe("dark");
    await page.context().close();
  });

  it("asks for the API key when the studio has one, keeps it for the tab, and retries", async () => {
    const key = "ui-test-key-0123456789abcdef";
    const s = await openStudio({ apiKey: key });
    const page = await newPage();
    await page.goto(`${s.url}/`);
    const dialog = page.getByRole("dialog", { name: "API key required" });
    await dialog.waitFor();
    await shot(page, "api-key-prompt");
    await page.getByLabel("API key", { exact: true }).fill(key);
    await page.getByRole("button", { name: "Use key" }).click();
    await page.getByText("No instances yet").waitFor();
    await page.locator(".gpu").first().waitFor();
    expect(await dialog.count()).toBe(0);
    expect(await page.evaluate<string | null>('sessionStorage.getItem("servepilot.apiKey")')).toBe(key);
    await page.reload();
    await page.getByText("No instances yet").waitFor();
    expect(await dialog.count()).toBe(0);
    await page.context().close();
  });

  it("a page whose chunk cannot be loaded (the studio was updated) says so and reloads", async () => {
    const s = await openStudio();
    const page = await newPage();
    await page.goto(`${s.url}/`);
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    // the tab's index.html names chunks that a rebuilt studio no longer has
    await page.route(/\/assets\/Usage-[^/]+\.js$/, (route) => route.fulfill({ status: 404, body: "" }));
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Usage" }).click();
    const alert = page.getByRole("alert");
    await alert.getByRole("heading", { name: "This page could not be loaded" }).waitFor();
    await shot(page, "page-chunk-failed");
    // the shell still works: another page shows, and coming back after the update is a reload away
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { level: 1, name: "Settings" }).waitFor();
    await page.unroute(/\/assets\/Usage-[^/]+\.js$/);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Usage" }).click();
    // React.lazy keeps the failed import: the page asks for the reload that loads the new files
    await page.getByRole("button", { name: "Reload" }).click();
    await page.getByRole("heading", { level: 1, name: "Usage" }).waitFor();
    await page.context().close();
  }, 60_000);
});
