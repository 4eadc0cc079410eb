import { Document, Scalar, visit } from "yaml";

const MERGE_TAG = "tag:yaml.org,2002:merge";

/**
 * YAML text for deployment artifacts. Emitted with YAML 1.1 quoting rules: Kubernetes reads manifests
 * with a YAML 1.1 parser (sigs.k8s.io/yaml over go-yaml v2), where bare `on`, `yes` or `y` are
 * booleans, so a string like that must be quoted; 1.1 quoting is also valid 1.2, which is what
 * Compose and Helm read. Lines are never folded, so long argv items stay one scalar, and an object
 * used twice is written twice rather than as an anchor and alias. A string `<<` is written quoted:
 * bare, YAML 1.1 reads it as a merge key (go-yaml v2 resolve.go; yaml.org/type/merge.html), so a key
 * `<<` from user input would merge its value into the map instead of staying a key.
 */
export function renderYamlDocuments(documents: readonly unknown[], header?: readonly string[]): string {
  return documents
    .map((value, index) => {
      const doc = new Document(value, {
        version: "1.1",
        aliasDuplicateObjects: false,
        // Without the merge tag the string `<<` is an ordinary string, which can be quoted below.
        customTags: (tags) => tags.filter((tag) => typeof tag === "string" || tag.tag !== MERGE_TAG),
      });
      visit(doc, {
        Scalar(_, node) {
          if (node.value === "<<") node.type = Scalar.QUOTE_DOUBLE;
        },
      });
      if (index === 0 && header && header.length > 0) {
        doc.commentBefore = header.map((line) => ` ${line}`).join("\n");
      }
      return doc.toString({ lineWidth: 0, minContentWidth: 0 });
    })
    .join("---\n");
}

/**
 * Kubernetes expands `$(VAR)` in container command, args and env values, and reads `$$` as a literal
 * `$` (k8s.io/kubernetes third_party/forked/golang/expansion). Doubling every `$` makes the text reach
 * the process unchanged.
 */
export function escapeKubernetesExpansion(text: string): string {
  return text.replaceAll("$", "$$$$");
}

/**
 * Compose interpolates `$VAR` and `${VAR}` in every string of the file and reads `$$` as a literal
 * `$` (compose-spec interpolation.md), so values taken from user input double their `$`.
 */
export function escapeComposeInterpolation(text: string): string {
  return text.replaceAll("$", "$$$$");
}
