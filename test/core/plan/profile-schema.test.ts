import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { profileJsonSchema } from "../../../src/core/plan/profile-schema-json.js";

describe("published profile JSON Schema", () => {
  const published = JSON.parse(
    readFileSync(new URL("../../../schemas/profile-v1.schema.json", import.meta.url), "utf8"),
  );

  it("is the one generated from the zod schema (run `npm run schemas` after changing it)", () => {
    expect(published).toEqual(JSON.parse(JSON.stringify(profileJsonSchema())));
  });

  it("accepts the README's profile and refuses unknown keys", () => {
    const validate = new Ajv2020({ strict: false }).compile(published);
    const profile = parse(
      "profileVersion: 1\nmodel: { id: Qwen/Qwen3-32B, maxModelLen: 32768, kvCacheDtype: fp8 }\nhardware: { gpu: L40S, gpus: 2 }\nengine: { name: vllm, version: 0.11.0 }\nworkload: { promptTokens: 2000, genTokens: 500, concurrency: 16 }\n",
    );
    expect(validate(profile)).toBe(true);
    expect(validate({ ...profile, hardware: { gpu: "L40S", vram: 48 } })).toBe(false);
  });
});
