import { ServepilotError } from "../errors.js";

export type ConfigObject = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (Array.isArray(value)) return "an array";
  return "an object";
}

export function isConfigObject(value: unknown): value is ConfigObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Typed, validating access to the fields of one config.json object. Every failure is an
 * INVALID_MODEL_CONFIG error naming the file, the field (with its nesting path) and what was expected.
 */
export class ConfigReader {
  constructor(
    readonly raw: ConfigObject,
    /** How the user knows this config: a path, or "catalog entry X". */
    readonly label: string,
    /** Key path of this object inside the file, e.g. "text_config". */
    readonly path: string = "",
  ) {}

  fieldName(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  fail(key: string, expected: string, got: unknown): never {
    throw new ServepilotError(
      "INVALID_MODEL_CONFIG",
      `${this.label}: ${this.fieldName(key)} must be ${expected}, got ${describe(got)}`,
      { details: { file: this.label, field: this.fieldName(key), expected, received: got ?? null } },
    );
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  /** First of `keys` that is present, for fields with several spellings across model families. */
  firstKey(keys: readonly string[]): string | undefined {
    return keys.find((key) => this.has(key));
  }

  int(key: string, options: { min?: number } = {}): number {
    const value = this.raw[key];
    const min = options.min ?? 1;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
      this.fail(key, min === 1 ? "a positive integer" : `an integer >= ${min}`, value);
    }
    return value;
  }

  optionalInt(key: string, options: { min?: number } = {}): number | null {
    return this.has(key) ? this.int(key, options) : null;
  }

  /** The first present key among `keys`, read as an integer; error naming the first key when none is. */
  intOneOf(keys: readonly string[], options: { min?: number } = {}): number {
    const key = this.firstKey(keys) ?? keys[0];
    if (key === undefined) throw new Error("intOneOf needs at least one key");
    return this.int(key, options);
  }

  optionalIntOneOf(keys: readonly string[], options: { min?: number } = {}): number | null {
    const key = this.firstKey(keys);
    return key === undefined ? null : this.int(key, options);
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const value = this.raw[key];
    if (typeof value !== "boolean") this.fail(key, "true or false", value);
    return value;
  }

  string(key: string): string {
    const value = this.raw[key];
    if (typeof value !== "string" || value.length === 0) this.fail(key, "a non-empty string", value);
    return value;
  }

  optionalString(key: string): string | null {
    return this.has(key) ? this.string(key) : null;
  }

  stringArray(key: string): string[] | null {
    if (!this.has(key)) return null;
    const value = this.raw[key];
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
      this.fail(key, "an array of strings", value);
    }
    return value;
  }

  intArray(key: string): number[] | null {
    if (!this.has(key)) return null;
    const value = this.raw[key];
    if (
      !Array.isArray(value) ||
      !value.every((item) => typeof item === "number" && Number.isSafeInteger(item))
    ) {
      this.fail(key, "an array of integers", value);
    }
    return value;
  }

  object(key: string): ConfigReader | null {
    if (!this.has(key)) return null;
    const value = this.raw[key];
    if (!isConfigObject(value)) this.fail(key, "an object", value);
    return new ConfigReader(value, this.label, this.fieldName(key));
  }
}
