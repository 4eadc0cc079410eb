/**
 * The dashboard's plan-vs-actual table, Switch and quick-launch outcome in headless Chromium
 * (playwright-core, /usr/bin/chromium or $CHROMIUM_PATH) against a real studio serving dist/web, with the
 * fake GPU tools and the vLLM emulator. Screenshots go to test-results/. Skipped, saying why, when
 * Chromium or the built UI (npm run build) is missing.
 */
import type { Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp, openStudio, QWEN } from "../studio/lifecycle-helpers.js";
import { browserFor, missingFor, RESULTS } from "./browser.js";

const QWEN_4B = "Qwen/Qwen3-4B";

const missing = missingFor("test/web/dashboard.test.ts");

const browser = browserFor(missing);

afterEach(cleanUp);

interface PvaRow {
  metric: string;
  planned: number;
  actual: number;
  errorPercent: number;
  recordedAt: string;
}

/** The page's formatting, written out independently: GiB with 2 decimals, counts with separators. */
function figure(metric: string, value: number): string {
  if (metric.endsWith("GiB")) return `${value.toFixed(2)} GiB`;
  return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toFixed(2);
}

function difference(percent: number): string {
  const sign = percent > 0 ? "+" : percent < 0 ? "−" : "";
  return `${sign}${Math.abs(percent).toFixed(1)}%`;
}

async function newPage(errors: string[], width = 1280, height = 900): Promise<Page> {
  const context = await browser().newContext({ viewport: { width, height }, colorScheme: "light" });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(error.message));
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${RESULTS}${name}.png`, fullPage: true });
}

type Studio = Awaited<ReturnType<typeof openStudio>>;

/** The plan-vs-actual table of `name` shows the newest launch's rows of the API, figure by figure. */
async function expectTableMatchesApi(page: Page, s: Studio, name: string): Promise<PvaRow[]> {
  const table = page
    .locator(`[data-pva="${name}"]`)
    .getByRole("table", { name: `Plan vs actual for ${name}` });
  await table.waitFor({ timeout: 20_000 });
  const answer = await s.api(`/api/instances/${name}/plan-vs-actual`);
  expect(answer.status).toBe(200);
  const all = answer.body.rows as PvaRow[];
  const rows = all.filter((row) => row.recordedAt === all[0]?.recordedAt);
  expect(rows.map((row) => row.metric)).toEqual(expect.arrayContaining(["weightsGiB", "kvCacheTokens"]));
  await expect.poll(() => table.locator("tbody tr").count()).toBe(rows.length);
  for (const row of rows) {
    const tr = table.locator(`tr[data-metric="${row.metric}"]`);
    expect(await tr.getByTestId("pva-planned").textContent(), row.metric).toBe(
      figure(row.metric, row.planned),
    );
    expect(await tr.getByTestId("pva-actual").textContent(), row.metric).toBe(figure(row.metric, row.actual));
    expect(await tr.getByTestId("pva-difference").textContent(), row.metric).toContain(
      difference(row.errorPercent),
    );
    const over = Math.abs(row.errorPercent) > 10;
    expect(await tr.getAttribute("class"), row.metric).toBe(over ? "pva-over" : null);
    expect(await tr.getByTestId("pva-difference").textContent(), row.metric).toContain(
      over ? "over 10%" : "%",
    );
  }
  return rows;
}

describe.skipIf(missing !== null)("studio web UI: dashboard", () => {
  it("shows plan vs actual per instance, switches an instance, and follows a quick launch to ready", async () => {
    const s = await openStudio();
    const errors: string[] = [];
    const page = await newPage(errors);
    await page.goto(`${s.url}/`);
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    await page.getByText("No instances yet").waitFor();

    // 1. an instance launched through the API: its plan-vs-actual table shows the API's figures
    const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 60 } });
    expect(launched.status).toBe(202);
    const first = launched.body.name as string;
    const firstStatus = page.locator(`tr[data-instance="${first}"]`).getByTestId("instance-status");
    await expect
      .poll(async () => firstStatus.textContent().catch(() => null), { timeout: 30_000 })
      .toBe("ready");
    const rows = await expectTableMatchesApi(page, s, first);
    // the emulator's KV-cache tokens, as the engine's log printed them
    expect(rows.find((row) => row.metric === "kvCacheTokens")?.actual).toBe(411_856);
    await page.locator('section[aria-labelledby="pva-title"]').scrollIntoViewIfNeeded();
    await shot(page, "dashboard-plan-vs-actual");

    // 2. Switch…: a form opens with the focus in it; an empty request is refused field by field (400)
    const switchButton = page.getByRole("button", { name: `Switch ${first}` });
    await switchButton.click();
    expect(await switchButton.getAttribute("aria-expanded")).toBe("true");
    const form = page.getByRole("form", { name: `Switch ${first} to…` });
    await form.waitFor();
    expect(await page.evaluate<string | undefined>("document.activeElement?.id")).toBe("sw-model");
    await form.getByRole("button", { name: `Stop ${first} and launch` }).click();
    const modelError = form.locator("#sw-model-error");
    await modelError.waitFor();
    expect(await modelError.textContent()).toContain("give model, recipeId or both");
    expect(await form.getByLabel("Model", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await form.getByRole("alert").textContent()).toContain("INVALID_ARGUMENT");
    expect(await page.evaluate<string | undefined>("document.activeElement?.id")).toBe("sw-model");
    expect((await s.api(`/api/instances/${first}`)).body.status).toBe("ready");
    // Escape closes it and gives the focus back to its button; Enter on the button opens it again
    await page.keyboard.press("Escape");
    await form.waitFor({ state: "detached" });
    expect(await page.evaluate<string | undefined>("document.activeElement?.id")).toBe(
      `switch-button-${first}`,
    );
    await page.keyboard.press("Enter");
    await form.waitFor();

    // switch to another catalog model: the old one stops, the new one becomes ready
    await page.keyboard.type(QWEN_4B);
    await form.getByRole("button", { name: `Stop ${first} and launch` }).click();
    const switchStatus = page.getByTestId("switch-status");
    await expect
      .poll(async () => switchStatus.textContent().catch(() => null), { timeout: 30_000 })
      .toMatch(new RegExp(`^Stopped ${first}\\. \\S+ is ready\\.$`));
    const second = /Stopped \S+\. (\S+) is ready\./.exec(
      (await switchStatus.textContent()) ?? "",
    )?.[1] as string;
    expect(second).not.toBe(first);
    expect(await form.count()).toBe(0);
    const secondStatus = page.locator(`tr[data-instance="${second}"]`).getByTestId("instance-status");
    await expect
      .poll(async () => secondStatus.textContent().catch(() => null), { timeout: 10_000 })
      .toBe("ready");
    await expect
      .poll(async () => firstStatus.textContent().catch(() => null), { timeout: 10_000 })
      .toBe("stopped");
    const list = (await s.api("/api/instances")).body.instances as Array<{
      name: string;
      status: string;
      model: string;
    }>;
    expect(Object.fromEntries(list.map((i) => [i.name, [i.status, i.model]]))).toEqual({
      [first]: ["stopped", QWEN],
      [second]: ["ready", QWEN_4B],
    });
    expect(await page.getByRole("button", { name: `Switch ${first}` }).isDisabled()).toBe(true);
    await expectTableMatchesApi(page, s, second);

    // 3. quick launch: the message goes from "Launching X…" to "X is ready."
    const quick = page.locator("section", { has: page.getByRole("heading", { name: "Quick launch" }) });
    // every text the status line shows, in order (a string: test files have no DOM types)
    await page.evaluate(`(() => {
      const section = document.querySelector('section[aria-labelledby="quick-title"]');
      const seen = (window.quickTexts = []);
      new MutationObserver(() => {
        const text = section.querySelector('[role="status"]')?.textContent ?? null;
        if (text !== null && seen.at(-1) !== text) seen.push(text);
      }).observe(section, { subtree: true, childList: true, characterData: true });
    })()`);
    await quick.getByLabel("Model", { exact: true }).fill(QWEN);
    await quick.getByRole("button", { name: "Launch", exact: true }).click();
    const quickStatus = quick.getByTestId("quick-launch-status");
    await expect
      .poll(async () => quickStatus.getAttribute("data-state").catch(() => null), { timeout: 30_000 })
      .toBe("ready");
    const third = /^(\S+) is ready\.$/.exec((await quickStatus.textContent()) ?? "")?.[1] as string;
    expect(third).toBeTruthy();
    expect(await page.evaluate<string[]>("window.quickTexts")).toEqual([
      `Launching ${third}…`,
      `${third} is ready.`,
    ]);
    expect((await s.api(`/api/instances/${third}`)).body).toMatchObject({ status: "ready", model: QWEN });

    // 4. a narrow screen: no horizontal scroll, with the tables and the switch form open
    const mobile = await newPage(errors, 375, 800);
    await mobile.goto(`${s.url}/`);
    await mobile.locator(`[data-pva="${third}"]`).getByRole("table").waitFor({ timeout: 20_000 });
    await mobile.getByRole("button", { name: `Switch ${third}` }).focus();
    await mobile.keyboard.press("Enter");
    await mobile.getByRole("form", { name: `Switch ${third} to…` }).waitFor();
    expect(await mobile.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    // every plan-vs-actual table and the switch form lie inside their card
    const overflowing = await mobile.evaluate<string[]>(`
      [...document.querySelectorAll(".pva-table, .switch-form, .row-buttons")]
        .filter((el) => el.getBoundingClientRect().right > el.closest(".card").getBoundingClientRect().right)
        .map((el) => el.className)
    `);
    expect(overflowing).toEqual([]);
    await shot(mobile, "dashboard-375px");
    await mobile.context().close();

    // 5. a switch away from an instance stopped meanwhile is a conflict (409), shown in the form
    await page.getByRole("button", { name: `Switch ${third}` }).click();
    const thirdForm = page.getByRole("form", { name: `Switch ${third} to…` });
    await thirdForm.waitFor();
    expect((await s.api(`/api/instances/${third}/stop`, { body: {} })).status).toBe(200);
    const thirdStatus = page.locator(`tr[data-instance="${third}"]`).getByTestId("instance-status");
    await expect
      .poll(async () => thirdStatus.textContent().catch(() => null), { timeout: 10_000 })
      .toBe("stopped");
    await thirdForm.getByLabel("Model", { exact: true }).fill(QWEN_4B);
    await thirdForm.getByRole("button", { name: `Stop ${third} and launch` }).click();
    await expect
      .poll(() => thirdForm.getByRole("alert").textContent(), { timeout: 10_000 })
      .toContain("CONFLICT");
    expect(((await s.api("/api/instances")).body.instances as unknown[]).length).toBe(3);

    expect(errors).toEqual([]);
    await page.context().close();
  }, 180_000);
});
