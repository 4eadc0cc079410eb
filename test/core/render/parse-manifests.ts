import { expect } from "vitest";
import { parseAllDocuments } from "yaml";

/** A parsed manifest or values file, walked by field name in the tests. */
// biome-ignore lint/suspicious/noExplicitAny: tests navigate parsed YAML freely
export type Manifest = Record<string, any>;

/** The manifests as a Kubernetes client reads them (YAML 1.1), checked to read the same as YAML 1.2. */
export function parseManifests(text: string): Manifest[] {
  const docs = parseAllDocuments(text, { version: "1.1" });
  const values = (Array.isArray(docs) ? docs : [docs]).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as Record<string, unknown>;
  });
  const as12 = parseAllDocuments(text, { version: "1.2" });
  expect((Array.isArray(as12) ? as12 : [as12]).map((doc) => doc.toJS())).toEqual(values);
  return values;
}
