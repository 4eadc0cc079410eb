/**
 * servepilot's defaults: a config file (`--config FILE`, else `<dataDir>/config.yaml`), overridden by
 * SERVEPILOT_* environment variables, overridden by command-line flags (the caller applies those).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ServepilotError } from "../core/errors.js";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export const LOG_FORMATS = ["text", "json"] as const;

const ConfigFileSchema = z
  .object({
    /** First port a launch tries (the next free one is taken when it is in use). */
    port: z.number().int().min(1).max(65_535).optional(),
    /** Address engines listen on. */
    host: z.string().min(1).optional(),
    /** Seconds a launch waits for readiness (default: scaled to the model's size). */
    timeout: z.number().positive().optional(),
    logLevel: z.enum(LOG_LEVELS).optional(),
    logFormat: z.enum(LOG_FORMATS).optional(),
    debug: z.boolean().optional(),
    /** Directory of your recipes (default `<dataDir>/recipes`). */
    recipesDir: z.string().min(1).optional(),
    /** Engine programs, as SERVEPILOT_VLLM_BIN / SERVEPILOT_SGLANG_PYTHON / SERVEPILOT_LLAMA_SERVER_BIN. */
    engines: z
      .object({ vllm: z.string().min(1), sglang: z.string().min(1), llamacpp: z.string().min(1) })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof ConfigFileSchema>;

export interface ResolvedConfig {
  port: number | null;
  host: string | null;
  timeout: number | null;
  logLevel: (typeof LOG_LEVELS)[number];
  logFormat: (typeof LOG_FORMATS)[number];
  debug: boolean;
  recipesDir: string | null;
  engines: NonNullable<ConfigFile["engines"]>;
  /** The config file read, or null when there was none. */
  file: string | null;
  /** Where each value came from ("file", "env"), for `--debug` and support. */
  sources: Record<string, "file" | "env">;
}

async function readConfigFile(file: string, required: boolean): Promise<ConfigFile | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !required) return null;
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `--config ${file}: cannot read it (${code ?? (error as Error).message})`,
    );
  }
  const { parseDocument } = await import("yaml");
  const doc = parseDocument(text, { prettyErrors: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0]?.line;
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `${file}${line ? `:${line}` : ""}: not valid YAML (${syntax.message.split("\n")[0]})`,
    );
  }
  const data = doc.toJSON() ?? {};
  const parsed = ConfigFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") ?? "";
    const keys = issue?.code === "unrecognized_keys" ? ` ${issue.keys.join(", ")}` : "";
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `${file}: ${field ? `field ${field}: ` : ""}${issue?.message ?? "invalid"}${keys}`,
      {
        hint: "known fields: port, host, timeout, logLevel, logFormat, debug, recipesDir, engines.{vllm,sglang,llamacpp}",
      },
    );
  }
  return parsed.data;
}

function envNumber(
  env: NodeJS.ProcessEnv,
  name: string,
  check: (n: number) => boolean,
  expected: string,
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || !check(value)) {
    throw new ServepilotError("INVALID_ARGUMENT", `${name}=${raw}: expected ${expected}`);
  }
  return value;
}

function envChoice<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  choices: readonly T[],
): T | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = raw.toLowerCase() as T;
  if (!choices.includes(value)) {
    throw new ServepilotError("INVALID_ARGUMENT", `${name}=${raw}: expected one of ${choices.join(", ")}`);
  }
  return value;
}

/** SERVEPILOT_DEBUG: 1/true/yes/on turn it on, 0/false/no/off/empty leave it off. */
export function envFlag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return undefined;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new ServepilotError("INVALID_ARGUMENT", `${name}=${env[name]}: expected 1 or 0 (true / false)`);
}

export async function loadConfig(options: {
  dataDir: string;
  configFlag?: string | undefined;
  env: NodeJS.ProcessEnv;
}): Promise<ResolvedConfig> {
  const file = options.configFlag ?? join(options.dataDir, "config.yaml");
  const fromFile = (await readConfigFile(file, options.configFlag !== undefined)) ?? {};
  const env = options.env;
  const fromEnv = {
    port: envNumber(
      env,
      "SERVEPILOT_PORT",
      (n) => Number.isInteger(n) && n >= 1 && n <= 65_535,
      "a port number 1-65535",
    ),
    timeout: envNumber(env, "SERVEPILOT_TIMEOUT", (n) => n > 0, "a positive number of seconds"),
    logLevel: envChoice(env, "SERVEPILOT_LOG_LEVEL", LOG_LEVELS),
    logFormat: envChoice(env, "SERVEPILOT_LOG_FORMAT", LOG_FORMATS),
    debug: envFlag(env, "SERVEPILOT_DEBUG"),
  };
  const sources: Record<string, "file" | "env"> = {};
  for (const key of Object.keys(fromFile)) sources[key] = "file";
  for (const [key, value] of Object.entries(fromEnv)) if (value !== undefined) sources[key] = "env";
  return {
    port: fromEnv.port ?? fromFile.port ?? null,
    host: fromFile.host ?? null,
    timeout: fromEnv.timeout ?? fromFile.timeout ?? null,
    logLevel: fromEnv.logLevel ?? fromFile.logLevel ?? "info",
    logFormat: fromEnv.logFormat ?? fromFile.logFormat ?? "text",
    debug: fromEnv.debug ?? fromFile.debug ?? false,
    recipesDir: fromFile.recipesDir ?? null,
    engines: fromFile.engines ?? {},
    file: Object.keys(fromFile).length > 0 || options.configFlag ? file : null,
    sources,
  };
}
