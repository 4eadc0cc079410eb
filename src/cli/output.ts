import pc from "picocolors";
import { ERROR_CODES, type ErrorCode, ExitCode, isServepilotError } from "../core/errors.js";

export interface OutputOptions {
  json: boolean;
  debug: boolean;
  color: boolean;
}

export interface Writers {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processWriters: Writers = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(options: Pick<OutputOptions, "color">): Colors {
  return pc.createColors(options.color);
}

/** The `--json` success envelope (DESIGN.md "Surfaces"). */
export function renderSuccessEnvelope(data: unknown): string {
  return `${JSON.stringify({ success: true, data }, null, 2)}\n`;
}

interface NormalizedError {
  code: ErrorCode;
  message: string;
  hint: string | undefined;
  details: unknown;
  exitCode: number;
  stack: string | undefined;
}

export function normalizeError(error: unknown): NormalizedError {
  if (isServepilotError(error)) {
    return {
      code: error.code,
      message: error.message,
      hint: error.hint,
      details: error.details ?? null,
      exitCode: error.exitCode,
      stack: error.stack,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: "INTERNAL",
    message,
    hint: "this is a bug in servepilot; rerun with --debug and report the stack trace",
    details: null,
    exitCode: ERROR_CODES.INTERNAL.exitCode,
    stack: error instanceof Error ? error.stack : undefined,
  };
}

/** Prints an error in the form the user asked for and returns the exit code to use. */
export function reportError(
  error: unknown,
  options: OutputOptions,
  writers: Writers = processWriters,
): number {
  const e = normalizeError(error);
  if (options.json) {
    const body = {
      success: false,
      error: {
        code: e.code,
        message: e.message,
        details: e.details ?? null,
        ...(e.hint ? { hint: e.hint } : {}),
      },
      timestamp: new Date().toISOString(),
    };
    writers.stdout(`${JSON.stringify(body, null, 2)}\n`);
  } else {
    const c = colorsFor(options);
    writers.stderr(`${c.red("error")} ${e.message}\n`);
    if (e.hint) writers.stderr(`${c.dim("hint:")} ${e.hint}\n`);
  }
  if (options.debug && e.stack) writers.stderr(`${e.stack}\n`);
  return e.exitCode ?? ExitCode.general;
}
