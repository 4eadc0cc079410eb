#!/usr/bin/env node
/**
 * The web UI's initial JavaScript, gzipped: the entry chunk that dist/web/index.html loads, what it
 * preloads (modulepreload) and the chunks the entry imports statically, transitively. Lazy pages
 * (dynamic import()) are listed apart and not counted. Exits 1 over the budget (default 350 KB,
 * `--budget <KB>`). Run after `npm run build`.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "web");
const budgetFlag = process.argv.indexOf("--budget");
const budgetKb = budgetFlag > 0 ? Number(process.argv[budgetFlag + 1]) : 350;

const indexFile = join(root, "index.html");
if (!existsSync(indexFile)) {
  console.error(`${indexFile} is missing: run npm run build first`);
  process.exit(2);
}
const html = readFileSync(indexFile, "utf8");

const eager = new Set();
for (const match of html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)) eager.add(match[1]);
for (const match of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)) eager.add(match[1]);
const css = [...html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => m[1]);

const read = (url) => readFileSync(join(root, url.replace(/^\//, "")));
const gz = (buffer) => gzipSync(buffer, { level: 9 }).length;
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

// static imports (import … from "./x.js", import "./x.js"), not import("./x.js")
const lazy = new Set();
const queue = [...eager];
while (queue.length > 0) {
  const url = queue.shift();
  const text = read(url).toString("utf8");
  const base = posix.dirname(url);
  for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*)["'`](\.{1,2}\/[^"'`]+\.js)["'`]/g)) {
    const dep = posix.normalize(posix.join(base, match[1]));
    if (!eager.has(dep)) {
      eager.add(dep);
      queue.push(dep);
    }
  }
  for (const match of text.matchAll(/\bimport\(\s*["'`](\.{1,2}\/[^"'`]+\.js)["'`]\s*\)/g)) {
    lazy.add(posix.normalize(posix.join(base, match[1])));
  }
}

let total = 0;
let raw = 0;
console.log("initial JavaScript (loaded by index.html):");
for (const url of eager) {
  const buffer = read(url);
  total += gz(buffer);
  raw += buffer.length;
  console.log(`  ${url}  ${kb(buffer.length)}  gzip ${kb(gz(buffer))}`);
}
for (const url of css) console.log(`  ${url} (CSS)  gzip ${kb(gz(read(url)))}`);
const lazyOnly = [...lazy].filter((url) => !eager.has(url));
if (lazyOnly.length > 0) {
  console.log("lazy chunks (not counted):");
  for (const url of lazyOnly) console.log(`  ${url}  gzip ${kb(gz(read(url)))}`);
}
console.log(`initial JS: ${kb(raw)}, gzip ${kb(total)} (budget ${budgetKb} KB)`);
if (total > budgetKb * 1024) {
  console.error(`over budget by ${kb(total - budgetKb * 1024)}`);
  process.exit(1);
}
