import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { parseSafetensorsBuffer } from "../../../src/runtime/models/safetensors-header.js";
import { buildSafetensors, type TensorSpec } from "./fixture-files.js";

const tensorSpecs = fc.uniqueArray(
  fc.record({
    name: fc.stringMatching(/^[a-z][a-z0-9_.]{0,30}$/),
    dtype: fc.constantFrom("BF16", "F16", "F32", "I32", "U8", "F8_E4M3"),
    shape: fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }),
  }),
  { selector: (t) => t.name, maxLength: 8 },
);

function parseOrError(bytes: Uint8Array): ReturnType<typeof parseSafetensorsBuffer> | ServepilotError {
  try {
    return parseSafetensorsBuffer(bytes, "model.safetensors");
  } catch (error) {
    if (error instanceof ServepilotError) return error;
    throw error; // anything else is a bug: the property fails
  }
}

describe("safetensors header parsing", () => {
  it("reads back every tensor a writer put in the header", () => {
    fc.assert(
      fc.property(tensorSpecs, (tensors: TensorSpec[]) => {
        expect(parseSafetensorsBuffer(buildSafetensors(tensors, { format: "pt" }), "x")).toEqual(tensors);
      }),
    );
  });

  it("refuses every truncation with INVALID_MODEL_CONFIG naming the file", () => {
    fc.assert(
      fc.property(
        tensorSpecs.filter((t) => t.some((s) => s.shape.every((d) => d > 0))),
        fc.nat(),
        (tensors, at) => {
          const file = buildSafetensors(tensors);
          const result = parseOrError(file.subarray(0, at % file.byteLength));
          expect(result).toBeInstanceOf(ServepilotError);
          expect((result as ServepilotError).code).toBe("INVALID_MODEL_CONFIG");
          expect((result as ServepilotError).message).toMatch(/^model\.safetensors: /);
        },
      ),
    );
  });

  it("never fails with anything but INVALID_MODEL_CONFIG on corrupted bytes", () => {
    fc.assert(
      fc.property(tensorSpecs, fc.nat(), fc.integer({ min: 0, max: 255 }), (tensors, at, byte) => {
        const file = buildSafetensors(tensors).slice();
        file[at % file.byteLength] = byte;
        const result = parseOrError(file);
        if (result instanceof ServepilotError) expect(result.code).toBe("INVALID_MODEL_CONFIG");
      }),
      { numRuns: 500 },
    );
  });

  it("explains the common failures", () => {
    expect(() => parseSafetensorsBuffer(new Uint8Array(5), "a.safetensors")).toThrow(
      "a.safetensors: 5 bytes is too short for a safetensors file (8-byte header length missing): truncated?",
    );
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => parseSafetensorsBuffer(huge, "b")).toThrow(
      /declares a 1099511627776-byte JSON header; expected 2 to 100000000/,
    );

    const file = buildSafetensors([{ name: "w", dtype: "F32", shape: [4] }]);
    expect(() => parseSafetensorsBuffer(file.subarray(0, file.byteLength - 1), "c")).toThrow(
      'c: tensor "w" data ends at byte 16 but the file holds only 15 bytes of tensor data: truncated?',
    );
    const bad = new TextEncoder().encode('{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]');
    const withPrefix = new Uint8Array(8 + bad.byteLength + 16);
    new DataView(withPrefix.buffer).setBigUint64(0, BigInt(bad.byteLength), true);
    withPrefix.set(bad, 8);
    expect(() => parseSafetensorsBuffer(withPrefix, "d")).toThrow(
      /d: the JSON header is not valid JSON at offset 60 of 60/,
    );
  });
});
