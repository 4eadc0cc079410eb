/**
 * Field errors as the studio reports them: `{field, message}` with dotted paths
 * (`engineArgs.maxModelLen`, `extraArgs.2`, `env.LD_PRELOAD`), one per field.
 */
import type { z } from "zod";
import { ServepilotError } from "../../core/errors.js";
import type { FieldError } from "../http/errors.js";

export type { FieldError };

export function joinPath(path: readonly PropertyKey[]): string {
  return path.map((part) => String(part)).join(".");
}

/** Zod issues as field errors; an unknown key is named itself (`engineArgs.foo`), not its parent. */
export function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[], prefix: readonly string[] = []) {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    const base = [...prefix, ...issue.path.map(String)];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        errors.push({ field: joinPath([...base, key]), message: `unknown field ${JSON.stringify(key)}` });
      }
      continue;
    }
    const missing = issue.code === "invalid_type" && issue.input === undefined;
    errors.push({ field: joinPath(base) || "recipe", message: missing ? "required" : issue.message });
  }
  return errors;
}

/** Keeps the first error of each field, in order. */
export function onePerField(errors: readonly FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    if (seen.has(error.field)) return false;
    seen.add(error.field);
    return true;
  });
}

/** The 400 the HTTP error handler maps: message lists every field, details.fields names them. */
export function invalidFields(errors: readonly FieldError[], prefix = "body"): ServepilotError {
  const fields = errors.map((e) => ({
    field: prefix ? `${prefix}.${e.field}` : e.field,
    message: e.message,
  }));
  return new ServepilotError("INVALID_ARGUMENT", fields.map((f) => `${f.field}: ${f.message}`).join("; "), {
    details: { fields },
  });
}
