/**
 * The planner's charts in a real browser (playwright-core, /usr/bin/chromium or $CHROMIUM_PATH)
 * against a real studio: the context-vs-concurrency and throughput-vs-concurrency charts render, their
 * data tables carry exactly what POST /api/plan returns for the same body, and the batching mode
 * reaches the plan request. Screenshots go to test-results/. Skipped, saying why, when Chromium or
 * the built UI (npm run build) is missing.
 */
import type { Locator, Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp, openStudio, QWEN } from "../studio/lifecycle-helpers.js";
import { browserFor, missingFor, RESULTS } from "./browser.js";

const missing = missingFor("test/web/planner.test.ts");

interface TradeoffPoint {
  maxModelLen: number;
  maxConcurrency: number;
  fits: boolean;
}

interface CurvePoint {
  concurrency: number;
  tpotMs: number;
  ttftMs: number;
  outputTokensPerSecond: number;
  perRequestTokensPerSecond: number;
}

const browser = browserFor(missing);
const pageErrors: string[] = [];

afterEach(cleanUp);

async function newPage(width = 1280, height = 900): Promise<Page> {
  const context = await browser().newContext({ viewport: { width, height }, colorScheme: "light" });
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  return page;
}

/** A table's body: each row's cells, as text. */
async function tableRows(table: Locator): Promise<string[][]> {
  const rows = await table.locator("tbody tr").all();
  return Promise.all(rows.map((row) => row.locator("th, td").allTextContents()));
}

const num = (text: string | undefined): number => Number((text ?? "").replace(/,/g, ""));

/** Fills the planner's form with the body's fields. */
async function fillForm(page: Page, body: Record<string, string | number>): Promise<void> {
  await page.getByLabel("Model").fill(String(body.model));
  await page.getByLabel("GPU", { exact: true }).selectOption(String(body.gpu));
  await page.getByLabel("GPU count").fill(String(body.gpus));
  await page.getByLabel("Context length").fill(String(body.maxModelLen));
  await page.getByLabel("Concurrency").fill(String(body.concurrency));
  await page.getByLabel("Prompt tokens").fill(String(body.promptTokens));
  await page.getByLabel("Output tokens").fill(String(body.genTokens));
}

/** Clicks Plan and answers the body the page posted to /api/plan, once the verdict shows. */
async function plan(page: Page): Promise<Record<string, unknown>> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/api/plan"),
    page.getByRole("button", { name: "Plan", exact: true }).click(),
  ]);
  const request = response.request();
  await page.getByTestId("verdict").waitFor();
  return request.postDataJSON() as Record<string, unknown>;
}

describe.skipIf(missing !== null)("studio web UI: planner charts", () => {
  it("charts the plan's trade-off and throughput curve with data tables matching the API", async () => {
    pageErrors.length = 0;
    const s = await openStudio();
    const page = await newPage();
    await page.goto(`${s.url}/planner`);
    await page.getByRole("heading", { name: "Planner" }).waitFor();

    // the new fields: engine version (optional text) and batching mode (default: the planner's)
    const mode = page.getByLabel("Batching mode");
    expect(await mode.inputValue()).toBe("");
    expect(await mode.locator("option").first().textContent()).toMatch(/default/i);
    expect(await page.getByLabel("Engine version").inputValue()).toBe("");
    // its suggestions and hint are the releases GET /api/catalog/engines lists, for the chosen engine
    const engines = (await s.api("/api/catalog/engines")).body.engines as Array<{
      engine: string;
      defaultVersion: string;
      releases: Array<{ earliest: string }>;
    }>;
    const suggested = () =>
      page
        .locator("#pl-engine-versions option")
        .evaluateAll((options) => options.map((o) => o.getAttribute("value")));
    for (const engine of ["llamacpp", "vllm"]) {
      const listed = engines.find((e) => e.engine === engine);
      await page.getByLabel("Engine", { exact: true }).selectOption(engine);
      await page.getByText(`default ${listed?.defaultVersion};`).waitFor();
      expect(await suggested()).toEqual(listed?.releases.map((r) => r.earliest));
    }

    const body = {
      model: QWEN,
      engine: "vllm",
      gpu: "h100-sxm",
      gpus: 1,
      maxModelLen: 8192,
      concurrency: 8,
      promptTokens: 128,
      genTokens: 128,
    };
    await fillForm(page, body);
    const posted = await plan(page);
    expect(posted).toEqual(body);
    const expected = await s.api("/api/plan", { body });
    expect(expected.status).toBe(200);
    const tradeoff = expected.body.tradeoff as TradeoffPoint[];
    const curve = expected.body.performance.curve as CurvePoint[];
    const saturation = expected.body.performance.saturation as { concurrency: number; reason: string };
    expect(tradeoff.length).toBeGreaterThan(1);
    expect(curve.length).toBeGreaterThan(1);
    expect(await page.getByTestId("verdict").textContent()).toBe(
      expected.body.fits ? "fits" : "does not fit",
    );

    // context vs concurrency: a canvas, and a table with the API's points and the planned row marked
    const contextChart = page.getByRole("figure", { name: "Context length vs concurrency" });
    await contextChart.locator("canvas").first().waitFor();
    expect(await contextChart.locator("canvas").count()).toBe(1);
    const tradeoffRows = await tableRows(contextChart.getByTestId("tradeoff-table"));
    expect(
      tradeoffRows.map((cells) => ({
        maxModelLen: num(cells[0]),
        maxConcurrency: num(cells[1]),
        fits: cells[2] === "yes",
      })),
    ).toEqual(tradeoff);
    const plannedRows = contextChart.locator('tr[data-planned="true"]');
    expect(await plannedRows.count()).toBe(1);
    expect(num((await plannedRows.locator("th").textContent()) ?? "")).toBe(expected.body.config.maxModelLen);
    expect(await plannedRows.locator("td").last().textContent()).toBe("planned context");
    expect(await contextChart.getByRole("img").getAttribute("aria-label")).toContain("planned context");

    // throughput and TPOT vs concurrency: a canvas, the API's curve, the saturation point and reason
    const curveChart = page.getByRole("figure", { name: "Throughput and TPOT vs concurrency" });
    await curveChart.locator("canvas").first().waitFor();
    expect(await curveChart.locator("canvas").count()).toBe(1);
    const curveRows = await tableRows(curveChart.getByTestId("curve-table"));
    expect(
      curveRows.map((cells) => ({
        concurrency: num(cells[0]),
        outputTokensPerSecond: num(cells[1]),
        tpotMs: num(cells[2]),
        ttftMs: num(cells[3]),
        perRequestTokensPerSecond: num(cells[4]),
      })),
    ).toEqual(curve.map((p) => ({ ...p })));
    const notes = Object.fromEntries(curveRows.map((cells) => [num(cells[0]), cells[5]]));
    expect(notes[saturation.concurrency]).toContain("saturation");
    expect(notes[body.concurrency]).toContain("requested");
    expect(await curveChart.getByTestId("saturation").textContent()).toBe(
      `Saturates at ${saturation.concurrency.toLocaleString("en-US")} concurrent requests: ${saturation.reason}.`,
    );

    // the data tables open from the keyboard
    const summary = curveChart.locator("summary");
    await summary.focus();
    await page.keyboard.press("Enter");
    await curveChart.getByTestId("curve-table").waitFor({ state: "visible" });
    await contextChart.locator("summary").click();
    await contextChart.getByTestId("tradeoff-table").waitFor({ state: "visible" });
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: `${RESULTS}planner-charts.png`, fullPage: true });

    // the charts follow the theme: toggling it redraws them in the other theme's colours
    const pixels = () =>
      curveChart
        .locator("canvas")
        .first()
        .evaluate((c) => (c as unknown as { toDataURL(): string }).toDataURL());
    const before = await pixels();
    await page.getByRole("button", { name: /^Switch to (dark|light) theme$/ }).click();
    await expect.poll(pixels).not.toBe(before);

    // throughput mode reaches the plan request, and the page shows what the API answers for it
    const recommendations = async () =>
      page
        .locator(".recommendations li code")
        .allTextContents()
        .then((texts) => texts.map((t) => t.trim()));
    const recsOf = (plan: { recommendations: { setting: string; value: unknown }[] }) =>
      plan.recommendations.map((r) => `${r.setting} = ${String(r.value)}`);
    expect(await recommendations()).toEqual(recsOf(expected.body));
    await mode.selectOption("throughput");
    const throughputPosted = await plan(page);
    const throughputBody = { ...body, batchingMode: "throughput" };
    expect(throughputPosted).toEqual(throughputBody);
    const throughput = await s.api("/api/plan", { body: throughputBody });
    expect(throughput.status).toBe(200);
    // the mode changes the plan for this body: a max_num_seqs recommendation the balanced plan lacks
    expect(recsOf(throughput.body)).not.toEqual(recsOf(expected.body));
    expect(recsOf(throughput.body).some((r) => r.startsWith("maxNumSeqs = "))).toBe(true);
    await expect.poll(recommendations, { timeout: 15_000 }).toEqual(recsOf(throughput.body));
    expect(await page.getByTestId("verdict").textContent()).toBe(
      throughput.body.fits ? "fits" : "does not fit",
    );
    await page.context().close();

    // 375 px wide: no horizontal scroll, both charts still there
    const mobile = await newPage(375, 800);
    await mobile.goto(`${s.url}/planner`);
    await mobile.getByRole("heading", { name: "Planner" }).waitFor();
    await fillForm(mobile, body);
    await plan(mobile);
    for (const name of ["Context length vs concurrency", "Throughput and TPOT vs concurrency"]) {
      const figure = mobile.getByRole("figure", { name });
      await figure.locator("canvas").first().waitFor();
      await figure.locator("summary").click();
    }
    expect(await mobile.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    await mobile.getByRole("heading", { name: "Capacity and throughput" }).scrollIntoViewIfNeeded();
    await mobile.screenshot({ path: `${RESULTS}planner-375px.png`, fullPage: true });
    await mobile.context().close();

    expect(pageErrors).toEqual([]);
  }, 60_000);

  it("marks a planned context between the trade-off points and the context lengths that do not fit", async () => {
    pageErrors.length = 0;
    const s = await openStudio();
    const page = await newPage();
    await page.goto(`${s.url}/planner`);
    await page.getByRole("heading", { name: "Planner" }).waitFor();
    // no context length: the planner picks what fits (not a power of two), with the named release
    await page.getByLabel("Model").fill("Qwen/Qwen3-32B");
    await page.getByLabel("GPU", { exact: true }).selectOption("h100-sxm");
    await page.getByLabel("GPU count").fill("1");
    await page.getByLabel("Engine version").fill("0.11.0");
    const body = {
      model: "Qwen/Qwen3-32B",
      engine: "vllm",
      gpu: "h100-sxm",
      gpus: 1,
      engineVersion: "0.11.0",
    };
    expect(await plan(page)).toEqual(body);
    const expected = await s.api("/api/plan", { body });
    expect(expected.status).toBe(200);
    expect(expected.body.config.engineVersion).toBe("0.11.0");
    await page.getByText(`with vllm 0.11.0`).waitFor();

    const tradeoff = expected.body.tradeoff as TradeoffPoint[];
    const plannedContext = expected.body.config.maxModelLen as number;
    expect(tradeoff.some((p) => p.maxModelLen === plannedContext)).toBe(false);
    expect(tradeoff.some((p) => !p.fits)).toBe(true);
    // the planned context joins the points with the plan's own KV-cache figure
    const points = [
      ...tradeoff,
      {
        maxModelLen: plannedContext,
        maxConcurrency: expected.body.kvCache.maxConcurrency,
        fits: expected.body.fits,
      },
    ].sort((a, b) => a.maxModelLen - b.maxModelLen);

    const chart = page.getByRole("figure", { name: "Context length vs concurrency" });
    await chart.locator("canvas").first().waitFor();
    const rows = await tableRows(chart.getByTestId("tradeoff-table"));
    expect(
      rows.map((cells) => ({
        maxModelLen: num(cells[0]),
        maxConcurrency: num(cells[1]),
        fits: cells[2] === "yes",
      })),
    ).toEqual(points);
    expect(rows.filter((cells) => cells[2] === "no").map((cells) => num(cells[0]))).toEqual(
      tradeoff.filter((p) => !p.fits).map((p) => p.maxModelLen),
    );
    const planned = chart.locator('tr[data-planned="true"]');
    expect(await planned.count()).toBe(1);
    expect(num((await planned.locator("th").textContent()) ?? "")).toBe(plannedContext);
    // the points that do not fit are a series of their own, named in the legend and the description
    expect(await chart.locator(".u-legend").textContent()).toContain("Does not fit");
    expect(await chart.getByRole("img").getAttribute("aria-label")).toContain("does not fit at");
    await chart.screenshot({ path: `${RESULTS}planner-misfit.png` });

    const curveChart = page.getByRole("figure", { name: "Throughput and TPOT vs concurrency" });
    await curveChart.locator("canvas").first().waitFor();
    const saturation = expected.body.performance.saturation as { concurrency: number; reason: string };
    expect(await curveChart.getByTestId("saturation").textContent()).toBe(
      `Saturates at ${saturation.concurrency.toLocaleString("en-US")} concurrent requests: ${saturation.reason}.`,
    );
    await page.context().close();
    expect(pageErrors).toEqual([]);
  });
});
