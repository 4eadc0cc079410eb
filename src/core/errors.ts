/**
 * The one catalog of user-facing errors. Every error servepilot shows has a stable code from this
 * table, the exit code it maps to, and a message a user can act on. docs/errors.md lists the same
 * codes; test/core/errors.test.ts keeps the two in step.
 */

/** Process exit codes (DESIGN.md "Surfaces"). */
export const ExitCode = {
  ok: 0,
  general: 1,
  badInput: 2,
  gpuDetection: 3,
  launch: 4,
  cache: 5,
  network: 6,
  permission: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const ERROR_CODES = {
  INTERNAL: {
    exitCode: ExitCode.general,
    summary: "An unexpected internal error (a bug: please report it).",
  },
  INVALID_ARGUMENT: {
    exitCode: ExitCode.badInput,
    summary: "A command-line option or argument is missing or has an invalid value.",
  },
  INVALID_MODEL_CONFIG: {
    exitCode: ExitCode.badInput,
    summary: "A model's config.json is unreadable, malformed, or has fields with impossible values.",
  },
  INVALID_DATA_FILE: {
    exitCode: ExitCode.badInput,
    summary: "A catalog data file (built-in or in the user's data directory) fails validation.",
  },
  UNKNOWN_GPU: { exitCode: ExitCode.badInput, summary: "A GPU name matches no catalog entry." },
  MODEL_NOT_FOUND: {
    exitCode: ExitCode.badInput,
    summary: "A model could not be found in any source (local directory, HF cache, Hub, catalog).",
  },
  GPU_DETECTION_FAILED: {
    exitCode: ExitCode.gpuDetection,
    summary: "No GPU tool (nvidia-smi, amd-smi, rocm-smi) worked, or its output could not be read.",
  },
  NETWORK_ERROR: {
    exitCode: ExitCode.network,
    summary: "A request to the Hugging Face Hub (or another server) failed or timed out.",
  },
  PERMISSION_DENIED: {
    exitCode: ExitCode.permission,
    summary: "Access was refused: a gated model without a valid HF_TOKEN, or a file without permission.",
  },
  CACHE_ERROR: { exitCode: ExitCode.cache, summary: "The model cache could not be read or written." },
  LAUNCH_FAILED: { exitCode: ExitCode.launch, summary: "An engine process failed to start or become ready." },
  NOT_FOUND: {
    exitCode: ExitCode.badInput,
    summary: "A named thing (instance, recipe, download, log) does not exist.",
  },
  CONFLICT: {
    exitCode: ExitCode.general,
    summary:
      "The request conflicts with the current state (an instance is already stopping, a name is taken).",
  },
  UNAUTHORIZED: {
    exitCode: ExitCode.permission,
    summary:
      "The studio API needs an API key (Authorization: Bearer KEY or X-API-Key) and none or a wrong one was sent.",
  },
  RATE_LIMITED: { exitCode: ExitCode.general, summary: "Too many requests to the studio API; retry later." },
  STORAGE_FULL: {
    exitCode: ExitCode.general,
    summary: "The disk holding the data directory is full: the write was refused; free space and retry.",
  },
} as const satisfies Record<string, { exitCode: ExitCode; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ServepilotErrorOptions {
  /** A next step for the user ("set HF_TOKEN", "did you mean H100 SXM?"). */
  hint?: string;
  /** Structured data for `--json` and HTTP consumers. */
  details?: unknown;
  cause?: unknown;
}

export class ServepilotError extends Error {
  override readonly name = "ServepilotError";
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: ServepilotErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitCode(): ExitCode {
    return ERROR_CODES[this.code].exitCode;
  }
}

export function isServepilotError(value: unknown): value is ServepilotError {
  return value instanceof ServepilotError;
}
