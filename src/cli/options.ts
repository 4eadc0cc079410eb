import { ServepilotError } from "../core/errors.js";

/** Commander argument parsers that refuse bad values with the flag's name (exit 2). */
export function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        `${flag} must be a positive integer, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

export function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        `${flag} must be a positive number, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

export function fraction(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n > 1) {
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        `${flag} must be a number in (0, 1], got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

export function oneOf<T extends string>(flag: string, values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(values as readonly string[]).includes(value)) {
      throw new ServepilotError(
        "INVALID_ARGUMENT",
        `${flag} must be one of ${values.join(", ")}; got ${JSON.stringify(value)}`,
      );
    }
    return value as T;
  };
}

/** SERVEPILOT_DEBUG turns on --debug (1, true, yes or on); kept here, off the config loader, for cold start. */
export function debugFromEnv(env: NodeJS.ProcessEnv): boolean {
  return /^(1|true|yes|on)$/i.test(env.SERVEPILOT_DEBUG?.trim() ?? "");
}
