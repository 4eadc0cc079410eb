import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, ServepilotError } from "../../src/core/errors.js";

describe("error catalog", () => {
  const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
  const documented = new Map(
    [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d) \|/gm)].map((match) => [match[1] as string, Number(match[2])]),
  );

  it("documents every code with its exit code, and nothing else", () => {
    const catalog = new Map(
      Object.entries(ERROR_CODES).map(([code, entry]) => [code, entry.exitCode as number]),
    );
    expect(documented).toEqual(catalog);
  });

  it("maps a typed error to its exit code and keeps hint, details and cause", () => {
    const cause = new Error("ENOENT");
    const error = new ServepilotError("GPU_DETECTION_FAILED", "no GPU tool worked", {
      hint: "install drivers",
      details: { tools: 3 },
      cause,
    });
    expect(error.exitCode).toBe(3);
    expect(error.hint).toBe("install drivers");
    expect(error.details).toEqual({ tools: 3 });
    expect(error.cause).toBe(cause);
  });
});
