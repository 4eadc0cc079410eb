import { describe, expect, it } from "vitest";
import { describeModel } from "../../../src/core/model/describe-model.js";
import { loadModelCatalog } from "../../../src/runtime/catalog/model-catalog.js";

/**
 * Acceptance (issue "Foundation"): `inspect` totals within 1% of the officially published counts.
 * Every catalog entry with a published count is checked, each against its `paramsSource` link.
 * A published figure is rounded ("1.7B"), so an entry may also pass within half a unit of its
 * last published digit; at least 25 entries must be within 1% outright.
 */
function roundingTolerance(published: number): number {
  const billions = published / 1e9;
  const text = String(Number(billions.toPrecision(6)));
  const decimals = text.includes(".") ? (text.split(".")[1]?.length ?? 0) : 0;
  return (0.5 * 10 ** -decimals) / billions;
}

describe("catalog parameter counts vs published", async () => {
  const catalog = await loadModelCatalog();
  const rows = catalog.entries
    .filter((entry) => entry.publishedParams !== null)
    .map((entry) => {
      const published = entry.publishedParams as number;
      const { params } = describeModel({ config: entry.config, label: entry.id });
      return {
        id: entry.id,
        source: entry.paramsSource,
        published,
        computed: params.total,
        error: Math.abs(params.total - published) / published,
      };
    });

  it("has a published count for at least 25 models", () => {
    expect(rows.length).toBeGreaterThanOrEqual(25);
    expect(rows.every((row) => row.source?.startsWith("https://"))).toBe(true);
  });

  it("computes at least 25 totals within 1%", () => {
    expect(rows.filter((row) => row.error <= 0.01).length).toBeGreaterThanOrEqual(25);
  });

  it.each(rows.map((row) => [row.id, row] as const))(
    "%s is within 1%% (or the published rounding)",
    (_id, row) => {
      expect(row.error).toBeLessThanOrEqual(Math.max(0.01, roundingTolerance(row.published)));
    },
  );
});
