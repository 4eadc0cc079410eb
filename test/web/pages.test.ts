/**
 * The Recipes, Usage, Models, Logs and Settings pages in a real browser (headless Chromium,
 * playwright-core) against a real studio with the fake GPU tools and the vLLM emulator: each page's
 * main flow, checked against what the API answers. Full-page screenshots go to test-results/page-*.png.
 * Skipped, saying why, when Chromium or the built UI (npm run build) is missing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { gatewayRecorder } from "../../src/studio/modules/gateway.js";
import { flushEnergy } from "../../src/studio/modules/metrics.js";
import { formatBytes, formatNumber } from "../../web/src/format.js";
import { type HubServer, startHubServer } from "../helpers/hub-server.js";
import { buildHfCache } from "../studio/catalog-helpers.js";
import { cleanUp, enginePortBase, isInstanceEvent, openStudio, QWEN } from "../studio/lifecycle-helpers.js";
import { studioEnv } from "../studio/studio-harness.js";
import { browserFor, missingFor, RESULTS } from "./browser.js";

const CALC_SERVER = new URL("../fixtures/mcp/calc-server.mjs", import.meta.url).pathname;

const missing = missingFor("test/web/pages.test.ts");

const browser = browserFor(missing);

afterEach(cleanUp);

/** A page in a fresh context (en-US, light), with the page errors it meets collected. */
async function newPage(width = 1280, height = 900): Promise<{ page: Page; errors: string[] }> {
  const context = await browser().newContext({
    viewport: { width, height },
    colorScheme: "light",
    locale: "en-US",
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return { page, errors };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate("window.scrollTo(0, 0)"); // the sticky header at the top of the picture
  await page.screenshot({ path: `${RESULTS}page-${name}.png`, fullPage: true });
}

/** No horizontal scrolling at the page's width. */
async function expectNoOverflow(page: Page, width: number): Promise<void> {
  expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(width);
}

// What the pages print, as they print it (web/src/format.ts).
const ms = (value: number | null) => (value === null ? "–" : `${formatNumber(value)} ms`);
const count = (value: number) => value.toLocaleString("en-US");

type Studio = Awaited<ReturnType<typeof openStudio>>;

async function launchReady(s: Studio, body: Record<string, unknown> = { model: QWEN }): Promise<string> {
  const events = await s.events();
  const launched = await s.api("/api/instances", { body: { timeoutSeconds: 60, ...body } });
  expect(launched.status, JSON.stringify(launched.body)).toBe(202);
  const name = launched.body.name as string;
  await events.waitFor(isInstanceEvent(name, "ready"), 40_000, `${name} ready`);
  return name;
}

/** One chat completion through the gateway; `stream` asks for the usage chunk. */
async function chat(s: Studio, content: string, options: { key?: string; stream?: boolean } = {}) {
  const response = await fetch(`${s.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
    },
    body: JSON.stringify({
      model: QWEN,
      messages: [{ role: "user", content }],
      max_tokens: 12,
      ...(options.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    }),
  });
  await response.text();
  return response.status;
}

describe.skipIf(missing !== null)("studio web UI: recipes, usage, models, logs, settings", () => {
  it("recipes: lists with search and source, creates and edits with a validated form, exports, imports, deletes", async () => {
    const s = await openStudio();
    const { page, errors } = await newPage();
    const all = (await s.api("/api/recipes")).body as {
      count: number;
      recipes: { id: string; source: string }[];
    };
    const bySource = (source: string) => all.recipes.filter((r) => r.source === source).length;
    await page.goto(`${s.url}/recipes`);
    await page.getByRole("heading", { level: 1, name: "Recipes" }).waitFor();
    await page
      .getByText(`${bySource("studio")} stored · ${bySource("file")} file · ${bySource("builtin")} built-in`)
      .waitFor();
    const rows = page.locator("tr[data-recipe]");
    await expect.poll(() => rows.count()).toBe(all.count);

    // search and source filter
    const builtin = all.recipes.find((r) => r.source === "builtin");
    expect(builtin).toBeDefined();
    const id0 = builtin?.id as string;
    await page.getByLabel("Search recipes").fill(id0);
    await page.locator(`tr[data-recipe="${id0}"]`).waitFor();
    for (const shown of await rows.evaluateAll((els) => els.map((el) => el.getAttribute("data-recipe")))) {
      expect(shown).toContain(id0);
    }
    await page.getByLabel("Search recipes").fill("no-such-recipe-anywhere");
    await page.getByText("No recipe matches.").waitFor();
    await page.getByLabel("Search recipes").fill("");
    await page.getByLabel("Source").selectOption("builtin");
    await expect.poll(() => rows.count()).toBe(bySource("builtin"));
    await page.getByLabel("Source").selectOption("");

    // a new recipe: the API's per-field errors beside their fields
    await page.getByRole("button", { name: "New recipe", exact: true }).click();
    const form = page.getByRole("form", { name: "New recipe" });
    await form.waitFor();
    await page.getByLabel("Recipe id").fill("Bad Id!");
    await page.getByLabel("Model", { exact: true }).fill(QWEN);
    await page.getByLabel("GPU count").fill("many");
    const [validated] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/api/recipes/validate")),
      form.getByRole("button", { name: "Validate" }).click(),
    ]);
    const verdict = (await validated.json()) as {
      valid: boolean;
      errors: { field: string; message: string }[];
    };
    expect(verdict.valid).toBe(false);
    const fields = verdict.errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["id", "gpuCount"]));
    await form.getByText(`${verdict.errors.length} problem`).waitFor();
    // every message beside its own field, which is marked invalid and described by it
    for (const { field, message } of verdict.errors) {
      const key = field.startsWith("engineArgs.") ? field.slice("engineArgs.".length) : field.split(".")[0];
      const shown = form.locator(`[data-field-error="${key}"]`);
      await expect.poll(() => shown.textContent(), { message: field }).toContain(message);
      const input = form.locator(`[aria-describedby~="${await shown.getAttribute("id")}"]`);
      expect(await input.getAttribute("aria-invalid"), field).toBe("true");
    }
    expect(await page.getByLabel("Recipe id").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByLabel("GPU count").getAttribute("aria-invalid")).toBe("true");
    // saving anyway is refused by the server, and its messages land on the same fields
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/api/recipes") && r.request().method() === "POST"),
      form.getByRole("button", { name: "Create recipe" }).click(),
    ]);
    expect(refused.status()).toBe(400);
    await form.locator('[data-field-error="id"]').waitFor();

    // fixed: valid, with a command preview
    const id = "ui-qwen3-8b-h100";
    await page.getByLabel("Recipe id").fill(id);
    await page.getByLabel("GPU count").fill("1");
    await page.getByLabel("Hardware").fill("h100-sxm");
    await page.getByLabel("Engine version").fill("0.11.0");
    await page
      .getByLabel("Source link")
      .fill("https://docs.vllm.ai/projects/recipes/en/latest/Qwen/Qwen3.html");
    await page.getByLabel("Max model length").fill("8192");
    await page.getByLabel("Extra engine flags").fill("--enable-prefix-caching");
    const [second] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/api/recipes/validate")),
      form.getByRole("button", { name: "Validate" }).click(),
    ]);
    expect(await second.json()).toEqual({ valid: true, errors: [] });
    await form.getByText("Valid", { exact: true }).waitFor();
    expect(await form.locator("[data-field-error]").count()).toBe(0);
    await form.getByRole("button", { name: "Preview command" }).click();
    const preview = page.getByTestId("command-preview");
    await preview.waitFor({ timeout: 15_000 });
    const command = (await preview.textContent()) ?? "";
    expect(command).toContain(QWEN);
    expect(command).toContain("--max-model-len 8192");
    expect(command).toContain("--enable-prefix-caching");
    await shot(page, "recipes-form");
    await form.getByRole("button", { name: "Create recipe" }).click();
    await page.getByRole("status").getByText(`Saved ${id}.`).waitFor();
    const created = await s.api(`/api/recipes/${id}`);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      source: "studio",
      recipe: {
        id,
        model: QWEN,
        gpuCount: 1,
        hardware: ["h100-sxm"],
        extraArgs: ["--enable-prefix-caching"],
      },
    });
    expect(created.body.recipe.engineArgs.maxModelLen).toBe(8192);
    await page.locator(`tr[data-recipe="${id}"]`).getByText("stored").waitFor();

    // edit: the stored values in the form, the change stored
    await page.getByRole("button", { name: `Edit ${id}` }).click();
    const edit = page.getByRole("form", { name: `Edit ${id}` });
    await edit.waitFor();
    expect(await page.getByLabel("Recipe id").inputValue()).toBe(id);
    expect(await page.getByLabel("Max model length").inputValue()).toBe("8192");
    await page.getByLabel("Max model length").fill("16384");
    await page.getByLabel("Notes").fill("edited in the browser");
    await edit.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("status").getByText(`Saved ${id}.`).waitFor();
    const edited = await s.api(`/api/recipes/${id}`);
    expect(edited.body.recipe.engineArgs.maxModelLen).toBe(16384);
    expect(edited.body.recipe.notes).toBe("edited in the browser");
    await page.locator(`tr[data-recipe="${id}"]`).getByText("edited in the browser").waitFor();

    // export: YAML and JSON files holding the stored recipe
    const [yaml] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export YAML" }).click(),
    ]);
    expect(yaml.suggestedFilename()).toBe("servepilot-recipes.yaml");
    const yamlText = readFileSync(await yaml.path(), "utf8");
    expect(yamlText).toContain(`id: ${id}`);
    const [json] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export JSON" }).click(),
    ]);
    expect(json.suggestedFilename()).toBe("servepilot-recipes.json");
    const exported = JSON.parse(readFileSync(await json.path(), "utf8"));
    const documents = (Array.isArray(exported) ? exported : exported.recipes) as { id: string }[];
    expect(documents.map((d) => d.id)).toEqual([id]);

    // import: the JSON export under another id, and the YAML export back over the stored one
    const importInput = page.getByLabel("Import recipes (YAML or JSON file)");
    const copy = JSON.stringify({ recipes: documents.map((d) => ({ ...d, id: `${id}-copy` })) });
    await importInput.setInputFiles({
      name: "copy.json",
      mimeType: "application/json",
      buffer: Buffer.from(copy),
    });
    await page.getByRole("status").getByText("Imported 1 recipe from copy.json.").waitFor();
    expect((await s.api(`/api/recipes/${id}-copy`)).body.source).toBe("studio");
    await page.locator(`tr[data-recipe="${id}-copy"]`).waitFor();
    // the same id again without "replace": refused, nothing changes
    await importInput.setInputFiles({
      name: "again.yaml",
      mimeType: "text/yaml",
      buffer: Buffer.from(yamlText),
    });
    await page.getByRole("alert").getByText("CONFLICT").waitFor();
    await page.locator("ul.field-error").getByText("entries.0.id").waitFor();
    await page.getByLabel("Replace stored recipes with the same id").check();
    await importInput.setInputFiles({
      name: "again.yaml",
      mimeType: "text/yaml",
      buffer: Buffer.from(yamlText),
    });
    await page.getByRole("status").getByText("Imported 1 recipe from again.yaml.").waitFor();

    // delete, after a confirmation
    const row = page.locator(`tr[data-recipe="${id}-copy"]`);
    await row.getByRole("button", { name: `Delete ${id}-copy` }).click();
    await row.getByText(`Delete ${id}-copy?`).waitFor();
    await row.getByRole("button", { name: "Cancel" }).click();
    expect((await s.api(`/api/recipes/${id}-copy`)).status).toBe(200);
    await row.getByRole("button", { name: `Delete ${id}-copy` }).click();
    await row.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByRole("status").getByText(`Deleted ${id}-copy.`).waitFor();
    await expect.poll(() => row.count()).toBe(0);
    expect((await s.api(`/api/recipes/${id}-copy`)).status).toBe(404);
    await page.getByText(`${bySource("studio") + 1} stored`).waitFor();

    // launch from the list: the Status column follows the instance to ready, then to not running
    const mine = page.locator(`tr[data-recipe="${id}"]`);
    const status = mine.getByTestId("recipe-status");
    expect(await status.textContent()).toBe("not running");
    await mine.getByRole("button", { name: `Launch ${id}` }).click();
    const launching = page.getByRole("status").filter({ hasText: `Launching ${id} as ` });
    await launching.waitFor();
    const instance = / as (\S+)\. /.exec((await launching.textContent()) ?? "")?.[1] as string;
    expect(instance).toBeTruthy();
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe(`ready (${instance})`);
    const launched = (await s.api(`/api/instances/${encodeURIComponent(instance)}`)).body;
    expect(launched).toMatchObject({ recipeId: id, status: "ready" });
    await shot(page, "recipes");
    expect((await s.api(`/api/instances/${encodeURIComponent(instance)}/stop`, { body: {} })).status).toBe(
      200,
    );
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe("not running");

    const mobile = await newPage(375, 800);
    await mobile.page.goto(`${s.url}/recipes`);
    await mobile.page.locator(`tr[data-recipe="${id}"]`).waitFor();
    await expectNoOverflow(mobile.page, 375);
    await shot(mobile.page, "recipes-375px");
    await mobile.page.context().close();
    await page.context().close();
    expect([...errors, ...mobile.errors]).toEqual([]);
  }, 60_000);

  it("usage: totals, tokens per day, per-model table and percentiles match /api/usage; API keys are created once, listed and revoked", async () => {
    const s = await openStudio();
    await launchReady(s);
    const { page, errors } = await newPage();
    await page.goto(`${s.url}/usage`);
    await page.getByRole("heading", { level: 1, name: "Usage" }).waitFor();
    await page.getByTestId("total-requests").waitFor();

    // a key created in the page: the secret shown once, and it works on /v1
    const keysCard = page.locator("section.card", { has: page.getByRole("heading", { name: "API keys" }) });
    await keysCard.getByText("No API keys yet.").waitFor();
    // a limit that is not a number is refused by name, not taken as "no limit"
    await page.getByLabel("Key name").fill("ci-bot");
    await keysCard.getByLabel("Requests per minute").fill("lots");
    await keysCard.getByRole("button", { name: "Create key" }).click();
    await keysCard
      .getByRole("alert")
      .getByText(/rateLimitPerMinute/)
      .waitFor();
    expect((await s.api("/api/keys")).body).toEqual([]);
    await keysCard.getByLabel("Requests per minute").fill("600");
    await keysCard.getByRole("button", { name: "Create key" }).click();
    const secret = (await page.getByTestId("new-key-secret").textContent()) as string;
    expect(secret.length).toBeGreaterThan(20);
    const keys = (await s.api("/api/keys")).body as { id: string; name: string; prefix: string }[];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ name: "ci-bot", rateLimitPerMinute: 600, revokedAt: null });
    expect(secret.startsWith(keys[0]?.prefix as string)).toBe(true);
    const keyRow = keysCard.locator(`tr[data-key="${keys[0]?.id}"]`);
    await keyRow.getByText(`${keys[0]?.prefix}…`).waitFor();
    await keyRow.getByText("600/min").waitFor();

    // usage: a few chat completions, one of them with the new key
    expect(await chat(s, "hello there")).toBe(200);
    expect(await chat(s, "tell me more", { stream: true })).toBe(200);
    expect(await chat(s, "and once more")).toBe(200);
    expect(await chat(s, "with the key", { key: secret })).toBe(200);
    await gatewayRecorder(s.ctx).flush();
    await flushEnergy(s.ctx);

    await page.getByRole("button", { name: "Done" }).click();
    await expect.poll(() => page.getByTestId("new-key").count()).toBe(0);
    // the page shows what /api/usage answers (refreshed until both read the same energy minutes:
    // the GPU sampler may store one between the two reads)
    const energyText = (value: number | null) => (value === null ? "–" : `${formatNumber(value)} Wh`);
    // biome-ignore lint/suspicious/noExplicitAny: the report is navigated freely
    let report: any = null;
    await expect
      .poll(
        async () => {
          await Promise.all([
            page.waitForResponse((r) => r.url().includes("/api/usage?")),
            page.getByRole("button", { name: "Refresh" }).click(),
          ]);
          report = (await s.api("/api/usage?days=14")).body;
          const shown = [
            await page.getByTestId("total-requests").textContent(),
            await page.getByTestId("energy").textContent(),
          ];
          return (
            JSON.stringify(shown) ===
            JSON.stringify([count(report.totals.requests), energyText(report.energy.whPerMillionTokens)])
          );
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    expect(report.totals.requests).toBe(4);
    expect(report.energy.whPerMillionTokens).not.toBeNull();
    // the refresh reloaded the keys too: the key's last use, as the API has it
    const used = (await s.api(`/api/keys/${keys[0]?.id}`)).body.lastUsedAt as string;
    expect(used).not.toBeNull();
    const usedText = await page.evaluate((iso) => new Date(iso).toLocaleString(), used);
    await expect.poll(() => keyRow.locator('td[data-label="Last used"]').textContent()).toBe(usedText);
    expect(report.weekOverWeek.requestsChangePercent).toBeNull(); // nothing the week before
    await page
      .getByTestId("week-over-week")
      .getByText("No requests the week before to compare with.")
      .waitFor();

    const totals = report.totals;
    expect(await page.getByTestId("total-prompt").textContent()).toBe(count(totals.promptTokens));
    expect(await page.getByTestId("total-completion").textContent()).toBe(count(totals.completionTokens));
    expect(totals.promptTokens).toBeGreaterThan(0);
    expect(totals.completionTokens).toBeGreaterThan(0);

    // tokens per day: prompt and completion, today's sum
    const day = report.days.at(-1);
    expect(day.promptTokens + day.completionTokens).toBe(totals.totalTokens);
    const chart = page.getByRole("img", { name: /^Tokens per day/ });
    expect(await chart.getAttribute("aria-label")).toContain(`${formatNumber(totals.totalTokens)} in all`);
    const legend = page.locator(".chart .u-legend");
    await legend.getByText("Prompt").waitFor();
    await legend.getByText("Completion").waitFor();

    // percentiles
    const percentiles = page.getByRole("table", { name: "Latency and TTFT percentiles" });
    for (const p of ["p50", "p95", "p99"] as const) {
      const cells = await percentiles
        .getByRole("row", { name: new RegExp(`^${p}`) })
        .getByRole("cell")
        .allTextContents();
      expect(cells, p).toEqual([ms(report.latencyMs[p]), ms(report.ttftMs[p])]);
    }
    expect(report.latencyMs.p50).not.toBeNull();
    expect(report.ttftMs.p50).not.toBeNull();

    // per model and per key
    const byModel = page.getByRole("table", { name: "Usage by model" });
    const model = report.byModel.find((m: { model: string }) => m.model === QWEN);
    const modelCells = await byModel
      .getByRole("row", { name: new RegExp(QWEN) })
      .getByRole("cell")
      .allTextContents();
    expect(modelCells).toEqual([
      QWEN,
      count(model.requests),
      "100%",
      formatNumber(model.promptTokens),
      formatNumber(model.completionTokens),
      `${ms(model.latencyP50Ms)} / ${ms(model.latencyP95Ms)}`,
      ms(model.ttftP50Ms),
    ]);
    const byKey = page.getByRole("table", { name: "Usage by API key" });
    await byKey.getByRole("row", { name: new RegExp(`ci-bot \\(${keys[0]?.prefix}`) }).waitFor();
    await byKey.getByRole("row", { name: /admin \/ loopback/ }).waitFor();
    await shot(page, "usage");

    const mobile = await newPage(375, 800);
    await mobile.page.goto(`${s.url}/usage`);
    await mobile.page.getByRole("table", { name: "Usage by model" }).waitFor();
    await expectNoOverflow(mobile.page, 375);
    await shot(mobile.page, "usage-375px");
    // the secret is not shown again
    expect(await mobile.page.content()).not.toContain(secret);
    await mobile.page.context().close();

    // revoke, after a confirmation: refused on /v1 from then on, listed under "revoked"
    await keyRow.getByRole("button", { name: "Revoke ci-bot" }).click();
    await keyRow.getByText("Revoke ci-bot? Clients using it are refused from now on.").waitFor();
    await keyRow.getByRole("button", { name: "Revoke", exact: true }).click();
    await expect.poll(async () => (await s.api(`/api/keys/${keys[0]?.id}`)).body.revokedAt).not.toBeNull();
    await expect.poll(() => keyRow.count()).toBe(0);
    expect(await chat(s, "revoked", { key: secret })).toBe(401);
    await keysCard.getByLabel("Show revoked keys (1)").check();
    await keyRow.getByText("revoked").waitFor();
    await page.context().close();
    expect([...errors, ...mobile.errors]).toEqual([]);
  }, 60_000);

  it("models: the HF cache and local directories with their disk usage, downloads with progress, cancel, delete", async () => {
    const hub: HubServer = await startHubServer([
      {
        id: "acme/tiny",
        files: { "config.json": '{"model_type":"llama"}', "tiny.gguf": "4".repeat(300_000) },
      },
      { id: "acme/slow", files: { "config.json": '{"model_type":"llama"}' } },
    ]);
    try {
      const root = mkdtempSync(join(tmpdir(), "sp-ui-models-"));
      const { cacheDir } = buildHfCache(root, "acme/cached-model");
      const dataDir = join(root, "data");
      const local = join(dataDir, "models", "my-local-model");
      mkdirSync(local, { recursive: true });
      writeFileSync(join(local, "config.json"), '{"model_type":"qwen3"}');
      writeFileSync(join(local, "model.safetensors"), "s".repeat(5000));
      const env = studioEnv({
        SERVEPILOT_PORT: enginePortBase(),
        HF_ENDPOINT: hub.url,
        HF_HUB_CACHE: cacheDir,
      });
      delete env.HF_HUB_OFFLINE;
      const s = await openStudio({ env, dataDir });
      const scanned = (await s.api("/api/models/local")).body;
      expect(scanned.hfCache.models.map((m: { repo: string }) => m.repo)).toEqual(["acme/cached-model"]);

      const { page, errors } = await newPage();
      await page.goto(`${s.url}/models`);
      await page.getByRole("heading", { level: 1, name: "Models" }).waitFor();
      const cached = page.getByRole("table", { name: "Models in the Hugging Face cache" });
      const cachedRow = cached.locator('tr[data-model="acme/cached-model"]');
      await cachedRow.waitFor();
      const model = scanned.hfCache.models[0];
      expect(await cachedRow.locator('td[data-label="Size"]').textContent()).toBe(
        `${formatBytes(model.sizeBytes)}${formatBytes(model.incompleteBytes)} incomplete`,
      );
      await cachedRow.getByText(model.revisions[0].commit.slice(0, 8)).waitFor();
      await page.getByText(cacheDir, { exact: true }).waitFor();
      const localRow = page.getByRole("table", { name: "Models in local directories" }).getByRole("row", {
        name: /my-local-model/,
      });
      await localRow.getByText("safetensors").waitFor();
      await localRow.getByText(formatBytes(scanned.local.models[0].sizeBytes)).waitFor();
      const usage = page.getByTestId("disk-usage");
      expect(await usage.textContent()).toBe(
        `${formatBytes(model.sizeBytes)} in the Hugging Face cache · ${formatBytes(scanned.local.models[0].sizeBytes)} in local directories`,
      );
      await page.getByText("No downloads yet.").waitFor();

      // filter
      await page.getByLabel("Filter models").fill("local");
      await page.getByText("No cached models match.").waitFor();
      await page.getByLabel("Filter models").fill("");

      // a download: its progress up to done, then the model in the cache table and the disk usage
      await page.getByLabel("Model repo").fill("acme/tiny");
      await page.getByRole("button", { name: "Download", exact: true }).click();
      const job = page.locator("li.download", { hasText: "acme/tiny" });
      await expect
        .poll(() => job.getByTestId("download-status").textContent(), { timeout: 30_000 })
        .toBe("done");
      const jobs = (await s.api("/api/downloads")).body.downloads as { repo: string; bytesTotal: number }[];
      const done = jobs.find((j) => j.repo === "acme/tiny");
      expect(done).toMatchObject({ status: "done" });
      expect(await job.getByRole("progressbar").getAttribute("value")).toBe("100");
      await job
        .getByText(
          `${formatBytes(done?.bytesTotal as number)} of ${formatBytes(done?.bytesTotal as number)} (100%)`,
        )
        .waitFor();
      await cached.locator('tr[data-model="acme/tiny"]').waitFor({ timeout: 15_000 });
      const after = (await s.api("/api/models/local")).body;
      const cacheBytes = after.hfCache.models.reduce(
        (sum: number, m: { sizeBytes: number }) => sum + m.sizeBytes,
        0,
      );
      await expect
        .poll(() => usage.textContent())
        .toContain(`${formatBytes(cacheBytes)} in the Hugging Face cache`);

      // a download that hangs: running, then cancelled after a confirmation
      hub.setHang(true);
      await page.getByLabel("Model repo").fill("acme/slow");
      await page.getByRole("button", { name: "Download", exact: true }).click();
      const slow = page.locator("li.download", { hasText: "acme/slow" });
      await expect
        .poll(() => slow.getByTestId("download-status").textContent(), { timeout: 15_000 })
        .toBe("running");
      await shot(page, "models");
      await slow.getByRole("button", { name: "Cancel acme/slow" }).click();
      await slow.getByText("Cancel this download?").waitFor();
      await slow.getByRole("button", { name: "Cancel download" }).click();
      await expect
        .poll(() => slow.getByTestId("download-status").textContent(), { timeout: 15_000 })
        .toBe("cancelled");
      const cancelled = (await s.api("/api/downloads")).body.downloads.find(
        (j: { repo: string }) => j.repo === "acme/slow",
      );
      expect(cancelled.status).toBe("cancelled");
      hub.setHang(false);

      // delete a cached repo and a local directory, each after a confirmation naming it and its size
      const before = (await s.api("/api/models/local")).body;
      const cachedModel = before.hfCache.models.find((m: { repo: string }) => m.repo === "acme/cached-model");
      await cachedRow.getByRole("button", { name: "Delete acme/cached-model" }).click();
      await cachedRow
        .getByText(`Delete acme/cached-model (${formatBytes(cachedModel.sizeBytes)}) from the cache?`)
        .waitFor();
      await cachedRow.getByRole("button", { name: "Delete from disk" }).click();
      await cachedRow.waitFor({ state: "detached" });
      const remaining = before.hfCache.models.filter((m: { repo: string }) => m.repo !== "acme/cached-model");
      const remainingBytes = remaining.reduce(
        (sum: number, m: { sizeBytes: number }) => sum + m.sizeBytes,
        0,
      );
      await expect
        .poll(() => usage.textContent())
        .toContain(`${formatBytes(remainingBytes)} in the Hugging Face cache`);
      expect(existsSync(cachedModel.path)).toBe(false);
      const localModel = before.local.models[0];
      await localRow.getByRole("button", { name: "Delete my-local-model" }).click();
      await localRow
        .getByText(`Delete my-local-model (${formatBytes(localModel.sizeBytes)}) from disk?`)
        .waitFor();
      await localRow.getByRole("button", { name: "Delete from disk" }).click();
      await localRow.waitFor({ state: "detached" });
      await page.getByText("No local models.").waitFor();
      await expect.poll(() => usage.textContent()).toContain("0 B in local directories");
      expect(existsSync(local)).toBe(false);
      const gone = (await s.api("/api/models/local")).body;
      expect(gone.hfCache.models.map((m: { repo: string }) => m.repo)).not.toContain("acme/cached-model");
      expect(gone.local.models).toEqual([]);
      await page.context().close();
      expect(errors).toEqual([]);
    } finally {
      hub.setHang(false);
      await hub.close();
    }
  }, 60_000);

  it("logs: lists instances with their log files and follows a launch live", async () => {
    const s = await openStudio({
      env: studioEnv({ EMULATOR_SCENARIO: "slow-start", SERVEPILOT_PORT: enginePortBase() }),
    });
    const events = await s.events();
    const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 60 } });
    expect(launched.status).toBe(202);
    const name = launched.body.name as string;
    await events.waitFor(
      (e) => e.type === "launch" && e.data.instance === name && e.data.phase === "loading-weights",
      30_000,
      "loading-weights",
    );

    const { page, errors } = await newPage();
    await page.goto(`${s.url}/logs`);
    await page.getByRole("heading", { level: 1, name: "Logs" }).waitFor();
    await page.getByText("Choose an instance to read its log").waitFor();
    const entry = page.locator(`li[data-log="${name}"]`);
    await entry.waitFor();
    const files = (await s.api("/api/logs")).body.logs.find((l: { instance: string }) => l.instance === name);
    await entry.getByText(files.files[0].file, { exact: false }).waitFor();
    await entry.getByRole("link", { name }).click();
    await page.waitForURL(`${s.url}/logs/${name}`);

    // the tail so far: what the API's tail holds
    const log = page.getByRole("log", { name: `Log of ${name}` });
    await log.getByText("Starting to load model").waitFor();
    const tail = (await s.api(`/api/instances/${name}/logs?lines=1000`)).body.lines as string[];
    expect(tail.length).toBeGreaterThan(0);
    await log
      .getByText(tail[0] as string, { exact: true })
      .first()
      .waitFor();
    expect(await log.getByText("Application startup complete.").count()).toBe(0);

    // the engine goes on: its new lines appear without a reload, and the instance turns ready
    process.kill(launched.body.pid, "SIGUSR1");
    await log.getByText("Application startup complete.").waitFor({ timeout: 30_000 });
    await page.locator(".page-head .badge", { hasText: "ready" }).waitFor({ timeout: 30_000 });
    const full = (await s.api(`/api/instances/${name}/logs?lines=1000`)).body.lines as string[];
    await expect.poll(() => page.locator(".log-line").count()).toBe(full.length);
    await page.getByText(`${full.length} lines · following`).waitFor();

    // search within the shown lines
    await page.getByLabel("Search lines").fill("kv cache");
    const matching = full.filter((line) => line.toLowerCase().includes("kv cache"));
    expect(matching.length).toBeGreaterThan(0);
    await page.getByText(`${matching.length} of ${full.length} lines match`).waitFor();
    expect(await page.locator(".log-line").count()).toBe(matching.length);
    await page.getByLabel("Search lines").fill("");
    await shot(page, "logs");

    const mobile = await newPage(375, 800);
    await mobile.page.goto(`${s.url}/logs/${name}`);
    await mobile.page.getByRole("log").getByText("Application startup complete.").waitFor();
    await expectNoOverflow(mobile.page, 375);
    await shot(mobile.page, "logs-375px");
    await mobile.page.context().close();
    await page.context().close();
    expect([...errors, ...mobile.errors]).toEqual([]);
  }, 60_000);

  it("settings: shows the configuration, adds / lists / removes an MCP server, picks the theme", async () => {
    const s = await openStudio();
    const { page, errors } = await newPage();
    await page.goto(`${s.url}/settings`);
    await page.getByRole("heading", { level: 1, name: "Settings" }).waitFor();
    const config = (await s.api("/api/config")).body;
    const list = page.getByTestId("config");
    await list.waitFor();
    expect(await list.locator("[data-config]").count()).toBe(Object.keys(config).length);
    expect(await list.locator('[data-config="dataDir"] dd').textContent()).toBe(config.dataDir);
    expect(await list.locator('[data-config="apiKeyRequired"] dd').textContent()).toBe("no");
    expect(await list.locator('[data-config="intervalsMs"] dd').textContent()).toBe(
      `gpuSample ${config.intervalsMs.gpuSample} · scrape ${config.intervalsMs.scrape} · watchdog ${config.intervalsMs.watchdog} · heartbeat ${config.intervalsMs.heartbeat}`,
    );
    // the event stream is live (GPU samples every second)
    await expect
      .poll(() => page.getByTestId("event-stream-state").textContent(), { timeout: 15_000 })
      .toBe("receiving");

    // MCP: a refused registration names the field, a good one is listed with its tools, then removed
    await page.getByText("No MCP servers registered.").waitFor();
    const mcpForm = page.getByRole("form", { name: "Register an MCP server" });
    await mcpForm.getByLabel("Server name").fill("calc");
    await mcpForm.getByRole("button", { name: "Register server" }).click();
    const commandInput = mcpForm.getByLabel("Command");
    await expect.poll(() => commandInput.getAttribute("aria-invalid")).toBe("true");
    const commandError = mcpForm.locator(
      `#${(await commandInput.getAttribute("aria-describedby")) as string}`,
    );
    expect(((await commandError.textContent()) ?? "").length).toBeGreaterThan(0);
    expect((await s.api("/api/mcp/servers")).body.servers).toEqual([]);

    await commandInput.fill(`${process.execPath} ${CALC_SERVER}`);
    await mcpForm.getByLabel("Tool calls").selectOption("never");
    await mcpForm.getByRole("button", { name: "Register server" }).click();
    const server = page.locator('li[data-mcp="calc"]');
    await server.waitFor();
    const servers = (await s.api("/api/mcp/servers")).body.servers;
    expect(servers).toMatchObject([
      { name: "calc", transport: "stdio", command: [process.execPath, CALC_SERVER], approval: "never" },
    ]);
    await server.getByText(`${process.execPath} ${CALC_SERVER}`).waitFor();
    await server.getByText("approval: never").waitFor();
    await server.getByRole("button", { name: "List tools of calc" }).click();
    await server.getByTestId("mcp-tools").getByText("calc__add").waitFor({ timeout: 20_000 });
    await server.getByText("Add two numbers").waitFor();
    // the approval setting changed from the list
    await server.getByLabel("Ask before each call").click();
    await expect.poll(() => server.getByLabel("Ask before each call").isChecked()).toBe(true);
    await expect.poll(async () => (await s.api("/api/mcp/servers")).body.servers[0].approval).toBe("always");
    await shot(page, "settings");
    await server.getByRole("button", { name: "Delete calc" }).click();
    await server.getByText("Remove calc?").waitFor();
    await server.getByRole("button", { name: "Remove", exact: true }).click();
    await page.getByText("No MCP servers registered.").waitFor();
    expect((await s.api("/api/mcp/servers")).body.servers).toEqual([]);

    // theme: follows the system until one is picked; the pick is kept
    const theme = () => page.evaluate<string | undefined>("document.documentElement.dataset.theme");
    const radios = page.getByRole("group", { name: "Colours" });
    expect(await radios.getByLabel("follow the system").isChecked()).toBe(true);
    const toggle = page.locator("button.theme-toggle");
    expect(await toggle.getAttribute("aria-label")).toBe("Switch to dark theme");
    await radios.getByLabel("dark").check();
    expect(await theme()).toBe("dark");
    // the header's toggle agrees at once (one store), and its first press switches back to light
    await expect.poll(() => toggle.getAttribute("aria-label")).toBe("Switch to light theme");
    await toggle.click();
    expect(await theme()).toBe("light");
    await expect.poll(() => radios.getByLabel("light", { exact: true }).isChecked()).toBe(true);
    expect(await toggle.getAttribute("aria-label")).toBe("Switch to dark theme");
    await radios.getByLabel("dark").check();
    await expect.poll(() => toggle.getAttribute("aria-label")).toBe("Switch to light theme");
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Settings" }).waitFor();
    expect(await theme()).toBe("dark");
    expect(await radios.getByLabel("dark").isChecked()).toBe(true);
    await page.getByRole("button", { name: "Switch to light theme" }).waitFor();
    // the header's toggle moves the choice here too
    await page.getByRole("button", { name: "Switch to light theme" }).click();
    expect(await theme()).toBe("light");
    await expect.poll(() => radios.getByLabel("light", { exact: true }).isChecked()).toBe(true);
    await radios.getByLabel("dark").check();
    await radios.getByLabel("follow the system").check();
    expect(await theme()).toBe("light");
    expect(await page.evaluate<string | null>('localStorage.getItem("servepilot.theme")')).toBeNull();

    const mobile = await newPage(375, 800);
    await mobile.page.goto(`${s.url}/settings`);
    await mobile.page.getByTestId("config").waitFor();
    await expectNoOverflow(mobile.page, 375);
    await shot(mobile.page, "settings-375px");
    await mobile.page.context().close();
    await page.context().close();
    expect([...errors, ...mobile.errors]).toEqual([]);
  }, 60_000);
});
