/**
 * Request bodies of POST /v1/chat/completions and /v1/completions: validated with zod, resolved to
 * the sampling settings the engine runs with. Defaults are llama-server's (common/common.h
 * common_params_sampling: temp 0.80, top_k 40, top_p 0.95, min_p 0.05, no repeat penalty); fields
 * the embedded engine does not use (model, user, logprobs, …) pass through unchecked, as
 * llama-server lets them. A refusal names the field: "messages[0].role must be one of …".
 */
import { z } from "zod";

export interface SamplingOptions {
  /** Tokens to generate at most; null: until the sequence's context is full. */
  readonly maxTokens: number | null;
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly minP: number;
  /** null: a random seed per request (llama-server's LLAMA_DEFAULT_SEED). */
  readonly seed: number | null;
  readonly stop: readonly string[];
}

export type ChatRole = "system" | "developer" | "user" | "assistant";

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
}

interface CommonRequest {
  readonly stream: boolean;
  /** stream_options.include_usage: a final chunk with empty choices carries the usage. */
  readonly includeUsage: boolean;
  readonly sampling: SamplingOptions;
}

export interface ChatCompletionRequest extends CommonRequest {
  readonly messages: readonly ChatMessage[];
}

export interface TextCompletionRequest extends CommonRequest {
  /** Text, or token ids (llama-server accepts both). */
  readonly prompt: string | readonly number[];
}

export type RequestValidation<T> = { ok: true; value: T } | { ok: false; message: string };

export const DEFAULT_SAMPLING = {
  temperature: 0.8,
  topP: 0.95,
  topK: 40,
  minP: 0.05,
} as const;

/** llama-server's "no seed given" value (LLAMA_DEFAULT_SEED = 0xFFFFFFFF); -1 means the same. */
const RANDOM_SEEDS = new Set([-1, 0xffffffff]);

const tokenLimit = z.number().int().min(-1).nullish();
const samplingFields = {
  max_tokens: tokenLimit,
  max_completion_tokens: tokenLimit,
  n_predict: tokenLimit,
  temperature: z.number().min(0).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z
    .union([z.string().min(1), z.array(z.string().min(1))], {
      error: "must be a non-empty string or an array of non-empty strings",
    })
    .nullish(),
  n: z.literal(1, { error: "must be 1 (one choice per request)" }).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
};

const contentPart = z.object({
  type: z.literal("text", { error: 'must be "text" (the embedded engine reads text only)' }),
  text: z.string(),
});

const chatSchema = z.object({
  messages: z
    .array(
      z.object({
        role: z.enum(["system", "developer", "user", "assistant"]),
        content: z.union([z.string(), z.array(contentPart), z.null()], {
          error: "must be a string, an array of text parts or null",
        }),
      }),
    )
    .min(1),
  ...samplingFields,
});

const completionSchema = z.object({
  prompt: z.union([z.string(), z.array(z.string()).length(1), z.array(z.number().int().min(0)).min(1)], {
    error: "must be a string, an array holding one string, or an array of token ids",
  }),
  ...samplingFields,
});

export function parseChatCompletionRequest(body: unknown): RequestValidation<ChatCompletionRequest> {
  const parsed = chatSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) return { ok: false, message: describeIssue(parsed.error.issues[0]) };
  const data = parsed.data;
  const messages = data.messages.map((message) => ({
    role: message.role,
    content:
      typeof message.content === "string"
        ? message.content
        : (message.content ?? []).map((part) => part.text).join(""),
  }));
  return { ok: true, value: { messages, ...resolveCommon(data) } };
}

export function parseTextCompletionRequest(body: unknown): RequestValidation<TextCompletionRequest> {
  const parsed = completionSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) return { ok: false, message: describeIssue(parsed.error.issues[0]) };
  const data = parsed.data;
  const prompt = Array.isArray(data.prompt)
    ? data.prompt.every((item) => typeof item === "string")
      ? (data.prompt[0] ?? "")
      : data.prompt
    : data.prompt;
  return { ok: true, value: { prompt: prompt as string | number[], ...resolveCommon(data) } };
}

type SamplingInput = z.infer<z.ZodObject<typeof samplingFields>>;

function resolveCommon(data: SamplingInput): CommonRequest {
  const limit = data.max_completion_tokens ?? data.max_tokens ?? data.n_predict ?? null;
  const stop = data.stop ?? [];
  return {
    stream: data.stream ?? false,
    includeUsage: data.stream_options?.include_usage ?? false,
    sampling: {
      maxTokens: limit === null || limit < 0 ? null : limit,
      temperature: data.temperature ?? DEFAULT_SAMPLING.temperature,
      topP: data.top_p ?? DEFAULT_SAMPLING.topP,
      topK: data.top_k ?? DEFAULT_SAMPLING.topK,
      minP: data.min_p ?? DEFAULT_SAMPLING.minP,
      seed: data.seed === null || data.seed === undefined || RANDOM_SEEDS.has(data.seed) ? null : data.seed,
      stop: typeof stop === "string" ? [stop] : stop,
    },
  };
}

/** One zod issue as "path must …" ("messages[0].content must be a string, …", "messages is required"). */
function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return "invalid request body";
  const path = formatPath(issue.path);
  const subject = path === "" ? "the request body" : path;
  return `${subject} ${describeProblem(issue)}`;
}

function describeProblem(issue: z.core.$ZodIssue): string {
  if (issue.input === undefined) return "is required";
  if (issue.message.startsWith("must ")) return issue.message; // a message written in the schema
  switch (issue.code) {
    case "invalid_type":
      return `must be ${withArticle(issue.expected)}`;
    case "too_small":
      if (issue.origin === "array")
        return `must have at least ${issue.minimum} item${issue.minimum === 1 ? "" : "s"}`;
      return issue.origin === "string" ? "must not be empty" : `must be at least ${issue.minimum}`;
    case "too_big":
      return issue.origin === "array"
        ? `must have at most ${issue.maximum} items`
        : `must be at most ${issue.maximum}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    default:
      return `is invalid: ${issue.message}`;
  }
}

function withArticle(expected: string): string {
  const noun = expected === "int" ? "integer" : expected;
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, index) => (typeof key === "number" ? `[${key}]` : `${index === 0 ? "" : "."}${String(key)}`))
    .join("");
}
