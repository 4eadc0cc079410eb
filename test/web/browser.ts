/**
 * What the browser tests share: Debian's Chromium (or $CHROMIUM_PATH) driven by playwright-core, the
 * built UI they need, and the folder their screenshots go to. A test file without either is skipped,
 * saying why.
 */
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll } from "vitest";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const WEB_INDEX = new URL("../../dist/web/index.html", import.meta.url).pathname;
/** Screenshots for review (ignored by git). */
export const RESULTS = new URL("../../test-results/", import.meta.url).pathname;

/** Why `file`'s browser tests cannot run here (also said on stderr), or null when they can. */
export function missingFor(file: string, more: string | null = null): string | null {
  const missing = !existsSync(CHROMIUM)
    ? `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`
    : !existsSync(WEB_INDEX)
      ? `the web UI is not built (${WEB_INDEX} is missing: run npm run build)`
      : more;
  if (missing) console.warn(`${file} skipped: ${missing}`);
  return missing;
}

/** Headless Chromium, with the screenshot folder made. */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(RESULTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

/**
 * The test file's browser: launched before its tests unless they are skipped (`missing`), closed
 * after them. Call the returned function for it inside a test.
 */
export function browserFor(missing: string | null): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!missing) browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (browser === undefined) throw new Error("the browser is not running (the tests should be skipped)");
    return browser;
  };
}
