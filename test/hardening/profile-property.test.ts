/**
 * Hardening: profiles (`--profile FILE`) under random input — YAML text, random documents and
 * mutations of a valid profile. Every outcome is a profile or a ServepilotError naming the file; never
 * another exception, and a valid profile round-trips through requestToProfile / profileToRequest.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ServepilotError } from "../../src/core/errors.js";
import { loadProfile, profileToRequest, requestToProfile } from "../../src/runtime/profile.js";

const dir = mkdtempSync(join(tmpdir(), "sp-profile-prop-"));
let n = 0;

async function load(text: string) {
  const file = join(dir, `p${n++}.yaml`);
  writeFileSync(file, text);
  try {
    return { ok: true as const, profile: await loadProfile(file) };
  } catch (error) {
    expect(error).toBeInstanceOf(ServepilotError);
    expect((error as ServepilotError).message).toContain(file);
    expect((error as ServepilotError).exitCode).toBe(2);
    return { ok: false as const };
  }
}

describe("profiles under random input", () => {
  it("random text and random YAML documents give a profile or a typed error naming the file", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => stringify(v)),
          fc
            .dictionary(
              fc.constantFrom(
                "model",
                "gpu",
                "gpuCount",
                "engine",
                "maxModelLen",
                "concurrency",
                "precision",
                "kvCacheDtype",
                "x",
              ),
              fc.oneof(
                fc.string({ maxLength: 20 }),
                fc.integer(),
                fc.double(),
                fc.boolean(),
                fc.constant(null),
              ),
            )
            .map((d) => stringify(d)),
        ),
        async (text) => {
          const result = await load(text);
          if (result.ok) {
            const again = requestToProfile(profileToRequest(result.profile));
            expect(profileToRequest(again)).toEqual(profileToRequest(result.profile));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
