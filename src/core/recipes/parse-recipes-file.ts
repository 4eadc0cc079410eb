import { isMap, isNode, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { ServepilotError } from "../errors.js";
import { type Recipe, RecipeSchema } from "./recipe.js";

/**
 * Reads one recipe file: a YAML list of recipes (or one recipe). Pure over (file name, text), so the
 * runtime loader, the studio's upload and the tests share it. Every error names the file and the
 * line (and column) of the offending value, e.g. `recipes/qwen.yaml:12:5: entry 2 (id "qwen3-8b-h100"),
 * field engineArgs.maxNumSeqs: expected number, received string`.
 */
export function parseRecipesFile(file: string, text: string): Recipe[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = syntax.linePos?.[0];
    throw invalid(file, pos ? `${pos.line}:${pos.col}` : null, `invalid YAML (${firstLine(syntax.message)})`);
  }
  const root = doc.contents;
  if (root === null) return [];
  const listed = isSeq(root);
  const items = listed ? root.items : [root];
  const data: unknown = doc.toJS();
  const values = listed ? (data as unknown[]) : [data];

  const recipes: Recipe[] = [];
  const firstLineOfId = new Map<string, string>();
  values.forEach((value, index) => {
    const item = items[index];
    const node = isNode(item) ? item : null;
    const label = `entry ${index + 1}${idLabel(value)}`;
    const result = RecipeSchema.safeParse(value);
    if (!result.success) {
      const issue = result.error.issues[0] as z.core.$ZodIssue;
      const field = formatPath(issue.path);
      const { where, missing } = locate(node, issue, lineCounter);
      const message = missing ? `missing (${issue.message})` : issue.message;
      throw invalid(file, where, `${label}${field ? `, field ${field}` : ""}: ${message}`, {
        entry: index,
        field,
        issues: result.error.issues,
      });
    }
    const where = position(node, lineCounter) ?? "?";
    const earlier = firstLineOfId.get(result.data.id);
    if (earlier !== undefined) {
      throw invalid(file, where, `${label}: id ${result.data.id} is already used at line ${earlier}`);
    }
    firstLineOfId.set(result.data.id, where.split(":")[0] ?? where);
    recipes.push(result.data);
  });
  return recipes;
}

function invalid(file: string, where: string | null, message: string, details: object = {}): ServepilotError {
  return new ServepilotError("INVALID_DATA_FILE", `${file}${where ? `:${where}` : ""}: ${message}`, {
    details: { file, line: where ? Number(where.split(":")[0]) : null, ...details },
  });
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

function idLabel(value: unknown): string {
  if (typeof value === "object" && value !== null && "id" in value) {
    return ` (id ${JSON.stringify((value as { id: unknown }).id)})`;
  }
  return "";
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`))
    .join("")
    .replace(/^\./, "");
}

function position(node: Node | null, lineCounter: LineCounter): string | null {
  const offset = node?.range?.[0];
  if (offset === undefined) return null;
  const { line, col } = lineCounter.linePos(offset);
  return `${line}:${col}`;
}

/**
 * The deepest node on the issue's path (an unknown key points at the key itself); `missing` when the
 * path ends at a key the map does not have.
 */
function locate(
  entry: Node | null,
  issue: z.core.$ZodIssue,
  lineCounter: LineCounter,
): { where: string | null; missing: boolean } {
  let node: Node | null = entry;
  let missing = false;
  for (const part of issue.path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === part);
      if (!pair) {
        missing = true;
        break;
      }
      node = isNode(pair.value) ? pair.value : isNode(pair.key) ? pair.key : node;
    } else if (isSeq(node) && typeof part === "number") {
      const next = node.items[part];
      if (!isNode(next)) break;
      node = next;
    } else break;
  }
  if (issue.code === "unrecognized_keys" && isMap(node)) {
    const key = issue.keys[0];
    const pair = node.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === key);
    if (pair && isNode(pair.key)) node = pair.key;
  }
  return { where: position(node, lineCounter), missing };
}
