import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { locateJsonError } from "../../../src/runtime/models/json-error-position.js";

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe("locateJsonError", () => {
  it("points at the first invalid character, with line and column", () => {
    expect(locateJsonError('{\n  "a": 1,\n  "b": }')).toEqual({ offset: 19, line: 3, column: 8 });
    expect(locateJsonError('{"a": tru}')).toMatchObject({ offset: 9 });
    expect(locateJsonError("[1, 2]x")).toMatchObject({ offset: 6 });
    expect(locateJsonError('{"a": "\\q"}')).toMatchObject({ offset: 8 });
    expect(locateJsonError("01")).toMatchObject({ offset: 1 });
  });

  it("reports the end of the text for a truncated document", () => {
    const text = '{"model_type": "qwen3", "hidden_size": 10';
    expect(locateJsonError(text)).toEqual({ offset: text.length, line: 1, column: text.length + 1 });
    expect(locateJsonError("")).toMatchObject({ offset: 0 });
  });

  it("is null exactly when JSON.parse accepts the text (valid documents)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(locateJsonError(text)).toBeNull();
      }),
    );
  });

  it("agrees with JSON.parse on truncated and corrupted documents", () => {
    const corrupted = fc
      .tuple(fc.jsonValue(), fc.nat(), fc.string({ maxLength: 2 }), fc.nat({ max: 2 }))
      .map(([value, at, insert, drop]) => {
        const text = JSON.stringify(value, null, 1);
        const cut = at % (text.length + 1);
        return text.slice(0, cut) + insert + text.slice(cut + drop);
      });
    fc.assert(
      fc.property(fc.oneof(corrupted, fc.string()), (text) => {
        const position = locateJsonError(text);
        expect(position === null).toBe(parses(text));
        if (position) {
          expect(position.offset).toBeGreaterThanOrEqual(0);
          expect(position.offset).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
