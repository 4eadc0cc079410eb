import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/** DESIGN.md "Architecture": imports only point down (core <- runtime <- cli / studio). */
const ROOT = new URL("../src/", import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((match) => match[1] as string);
}

const FORBIDDEN: Record<string, RegExp> = {
  core: /(?:^node:|^(?:fs|path|os|child_process|http|https|net)$|\/(?:runtime|cli|studio)\/)/,
  runtime: /\/(?:cli|studio)\//,
  studio: /\/cli\//,
};

describe("layers", () => {
  for (const [layer, forbidden] of Object.entries(FORBIDDEN)) {
    it(`${layer} imports nothing from the layers above it`, () => {
      let files: string[] = [];
      try {
        files = sourceFiles(join(ROOT, layer));
      } catch {
        return; // layer not written yet
      }
      const violations = files.flatMap((file) =>
        importsOf(file)
          .filter((spec) => forbidden.test(spec))
          .map((spec) => `${relative(ROOT, file)} imports ${spec}`),
      );
      expect(violations).toEqual([]);
    });
  }
});
