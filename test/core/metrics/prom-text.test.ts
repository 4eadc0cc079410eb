/** Prometheus text format 0.0.4: examples from the format's documentation, escapes, and properties. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  familyOf,
  type MetricFamily,
  parsePromText,
  parseSampleValue,
  renderPromText,
  type Sample,
} from "../../../src/core/metrics/prom-text.js";

describe("parsePromText", () => {
  it("reads the documentation's example exposition", () => {
    const text = [
      "# HELP http_requests_total The total number of HTTP requests.",
      "# TYPE http_requests_total counter",
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400"}    3 1395066363000',
      "",
      "# Escaping in label values:",
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
      "metric_without_timestamp_and_labels 12.47",
      'something_weird{problem="division by zero"} +Inf -3982045',
      "# HELP http_request_duration_seconds A histogram of the request duration.",
      "# TYPE http_request_duration_seconds histogram",
      'http_request_duration_seconds_bucket{le="0.05"} 24054',
      'http_request_duration_seconds_bucket{le="+Inf"} 144320',
      "http_request_duration_seconds_sum 53423",
      "http_request_duration_seconds_count 144320",
      "nan_value NaN",
      "neg_inf -Inf",
    ].join("\n");
    const parsed = parsePromText(text);
    expect(parsed.errors).toEqual([]);
    expect(parsed.help.http_requests_total).toBe("The total number of HTTP requests.");
    expect(parsed.types.http_request_duration_seconds).toBe("histogram");
    expect(parsed.samples[0]).toEqual({
      name: "http_requests_total",
      labels: { method: "post", code: "200" },
      value: 1027,
      timestampMs: 1395066363000,
    });
    expect(parsed.samples[1]?.value).toBe(3);
    expect(parsed.samples[2]?.labels).toEqual({
      path: "C:\\DIR\\FILE.TXT",
      error: 'Cannot find file:\n"FILE.TXT"',
    });
    expect(parsed.samples[4]).toMatchObject({ value: Number.POSITIVE_INFINITY, timestampMs: -3982045 });
    expect(parsed.samples.find((s) => s.name === "nan_value")?.value).toBeNaN();
    expect(parsed.samples.find((s) => s.name === "neg_inf")?.value).toBe(Number.NEGATIVE_INFINITY);
    expect(familyOf("http_request_duration_seconds_bucket", parsed.types)).toBe(
      "http_request_duration_seconds",
    );
    expect(familyOf("http_requests_total", parsed.types)).toBe("http_requests_total");
  });

  it("maps Python clients' counter samples (_total, _created) to their family", () => {
    const parsed = parsePromText(
      "# TYPE vllm:prompt_tokens counter\nvllm:prompt_tokens_total 5\nvllm:prompt_tokens_created 1.7e9\n",
    );
    expect(familyOf("vllm:prompt_tokens_total", parsed.types)).toBe("vllm:prompt_tokens");
    expect(familyOf("vllm:prompt_tokens_created", parsed.types)).toBe("vllm:prompt_tokens");
  });

  it("reports a bad line with its number and keeps the others", () => {
    const parsed = parsePromText(
      [
        "good 1",
        'bad{label="unterminated} 2',
        "no_value",
        'dup{a="1",a="2"} 3',
        "bad_value abc",
        "# TYPE x wrongtype",
        "ok_after 4",
      ].join("\r\n"),
    );
    expect(parsed.samples.map((s) => s.name)).toEqual(["good", "ok_after"]);
    expect(parsed.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6]);
    expect(parsed.errors[2]?.message).toContain("appears twice");
  });

  it("accepts a trailing comma and blanks inside braces", () => {
    const parsed = parsePromText('m{ a = "1" , b="2", } 7\n');
    expect(parsed.errors).toEqual([]);
    expect(parsed.samples[0]?.labels).toEqual({ a: "1", b: "2" });
  });

  it("reads values as Go's ParseFloat does", () => {
    expect(parseSampleValue("1e3")).toBe(1000);
    expect(parseSampleValue(".5")).toBe(0.5);
    expect(parseSampleValue("Inf")).toBe(Number.POSITIVE_INFINITY);
    expect(parseSampleValue("-inf")).toBe(Number.NEGATIVE_INFINITY);
    expect(parseSampleValue("nan")).toBeNaN();
    expect(parseSampleValue("0x10")).toBeNull();
    expect(parseSampleValue("")).toBeNull();
  });
});

const metricName = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,20}$/);
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/);
const labelValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('a"b', "c\\d", "e\nf", "\\n", '\\"', "{}", ",="),
);
const value = fc.oneof(
  fc.double().map((v) => (Object.is(v, -0) ? 0 : v)),
  fc.integer(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
);
const sample = (name: string): fc.Arbitrary<Sample> =>
  fc.record({
    name: fc.constant(name),
    labels: fc.dictionary(labelName, labelValue, { maxKeys: 4 }),
    value,
    timestampMs: fc.option(fc.integer({ min: -1e12, max: 1e13 }), { nil: null }),
  });
const family: fc.Arbitrary<MetricFamily> = metricName.chain((name) =>
  fc.record({
    name: fc.constant(name),
    help: fc.option(fc.string({ maxLength: 30 }), { nil: null }),
    type: fc.option(fc.constantFrom("counter", "gauge", "histogram", "summary", "untyped"), { nil: null }),
    samples: fc.array(sample(name), { maxLength: 4 }),
  }),
);

function sameValue(a: number, b: number): boolean {
  return Number.isNaN(a) ? Number.isNaN(b) : a === b;
}

describe("parsePromText properties", () => {
  it("reads back what renderPromText writes", () => {
    fc.assert(
      fc.property(fc.uniqueArray(family, { selector: (f) => f.name, maxLength: 5 }), (families) => {
        const parsed = parsePromText(renderPromText(families));
        expect(parsed.errors).toEqual([]);
        const expected = families.flatMap((f) => f.samples);
        expect(parsed.samples.length).toBe(expected.length);
        parsed.samples.forEach((s, i) => {
          const want = expected[i] as Sample;
          expect(s.name).toBe(want.name);
          expect(s.labels).toEqual(want.labels);
          expect(s.timestampMs).toBe(want.timestampMs);
          expect(sameValue(s.value, want.value)).toBe(true);
        });
        for (const f of families) {
          if (f.help !== null) {
            // HELP text has no way to carry a trailing blank (the line is trimmed by writers too)
            expect(parsed.help[f.name]).toBe(f.help);
          }
          if (f.type !== null) expect(parsed.types[f.name]).toBe(f.type);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on arbitrary text, and reports errors per line", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400, unit: "binary" }), (text) => {
        const parsed = parsePromText(text);
        const lines = text.split("\n").length;
        for (const error of parsed.errors) {
          expect(error.line).toBeGreaterThanOrEqual(1);
          expect(error.line).toBeLessThanOrEqual(lines);
        }
        expect(parsed.samples.length + parsed.errors.length).toBeLessThanOrEqual(lines);
      }),
      { numRuns: 500 },
    );
  });

  it("never throws on near-miss exposition lines", () => {
    const pieces = fc.constantFrom(
      "m",
      "{",
      "}",
      '"',
      "\\",
      "=",
      ",",
      " ",
      "1",
      "NaN",
      "+Inf",
      "#",
      "HELP",
      "TYPE",
      "\n",
      "le",
      "x_total",
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 60 }), (parts) => {
        expect(() => parsePromText(parts.join(""))).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});
