/**
 * llama.cpp through node-llama-cpp: loads the model and one context of `--parallel` sequences, turns
 * chat messages into prompt tokens with the model's chat template, and generates token by token on
 * a sequence from the pool — counting every token, streaming text as it settles, honouring
 * max_tokens, stop strings, end-of-generation tokens and aborts. No context shift: a request stops
 * with "length" when its sequence is full, as llama-server does by default.
 */
import type * as NodeLlamaCpp from "node-llama-cpp";
import { shareBatch } from "./batch-share.js";
import type { EmbeddedGpuMode } from "./index.js";
import type { EmbeddedServerMetrics, MetricsQueueState } from "./metrics.js";
import type { ChatMessage, SamplingOptions } from "./openai-request.js";
import type { FinishReason } from "./openai-response.js";
import { generateOnSequence } from "./sequence-generation.js";
import { SequencePool } from "./sequence-pool.js";

export type NodeLlamaCppModule = typeof NodeLlamaCpp;
type Token = NodeLlamaCpp.Token;

export interface EngineLoadOptions {
  modelPath: string;
  /** Total context tokens; null: the model's training context. */
  ctxSize: number | null;
  parallel: number;
  threads: number;
  gpu: EmbeddedGpuMode;
}

export interface EngineLoadHooks {
  /** llama.cpp's own log lines (level, text without the newline). */
  onLlamaLog(level: string, message: string): void;
  /** Once getLlama() has a backend, before the model loads. */
  onBackend(description: { gpu: string | false; systemInfo: string }): void;
  signal: AbortSignal;
}

export interface PromptInput {
  readonly tokens: readonly Token[];
  /** Tokens that end generation besides the model's end-of-generation tokens (chat template turn ends). */
  readonly stopTokens: ReadonlySet<Token>;
}

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  /** Prompt tokens decoded for this request (the rest were reused from the sequence's cache). */
  promptTokensDecoded: number;
  completionTokens: number;
  promptMs: number;
  predictedMs: number;
}

/** The prompt does not leave room for one generated token in a sequence (llama-server: 400). */
export class ContextSizeExceededError extends Error {
  constructor(
    readonly promptTokens: number,
    readonly contextTokens: number,
  ) {
    super(
      `request (${promptTokens} tokens) exceeds the available context size (${contextTokens} tokens), try increasing it`,
    );
  }
}

/** getLlama() found no usable llama.cpp binary (or it failed to start): not the model's fault. */
export class LlamaBackendError extends Error {}

/** The client asked for a token id the model's vocabulary does not have. */
export class InvalidTokenError extends Error {}

export interface EmbeddedEngine {
  /** Context tokens each sequence holds (prompt + generation of one request). */
  readonly sequenceContextSize: number;
  /** "ChatML (from the model's chat template)", … */
  readonly chatFormat: string;
  chatPrompt(messages: readonly ChatMessage[]): PromptInput;
  textPrompt(prompt: string | readonly number[]): PromptInput;
  /** Generates on a free sequence (waiting for one if needed); `onText` gets text as it settles. */
  generate(
    prompt: PromptInput,
    sampling: SamplingOptions,
    onText: (delta: string) => void,
    signal: AbortSignal,
  ): Promise<GenerationResult>;
  queueState(): MetricsQueueState;
  /** Refuses new work; waiting requests fail. */
  stopAccepting(reason: Error): void;
  dispose(): Promise<void>;
}

export async function loadEmbeddedEngine(
  llamaCpp: NodeLlamaCppModule,
  options: EngineLoadOptions,
  metrics: EmbeddedServerMetrics,
  hooks: EngineLoadHooks,
): Promise<EmbeddedEngine> {
  // build "never" + skipDownload: use the installed prebuilt binary or fail; never fetch or compile.
  const llama = await llamaCpp
    .getLlama({
      gpu: options.gpu === "off" ? false : "auto",
      build: "never",
      skipDownload: true,
      progressLogs: false,
      maxThreads: options.threads,
      logLevel: llamaCpp.LlamaLogLevel.info,
      logger: (level, message) => hooks.onLlamaLog(level, message),
    })
    .catch((error: unknown) => {
      throw new LlamaBackendError(error instanceof Error ? error.message : String(error), { cause: error });
    });
  hooks.onBackend({ gpu: llama.gpu, systemInfo: llama.systemInfo });
  const model = await llama.loadModel({
    modelPath: options.modelPath,
    gpuLayers: options.gpu === "off" ? 0 : "auto",
    loadSignal: hooks.signal,
  });
  const totalContext = options.ctxSize ?? model.trainContextSize;
  const context = await model.createContext({
    contextSize: Math.max(1, Math.floor(totalContext / options.parallel)),
    sequences: options.parallel,
    threads: options.threads,
    createSignal: hooks.signal,
    batching: {
      itemPrioritizationStrategy: ({ items, size }) => {
        metrics.recordDecode(items.length);
        return shareBatch(items, size);
      },
    },
  });
  const sequences = Array.from({ length: options.parallel }, () => context.getSequence());
  const pool = new SequencePool(sequences);
  const hasTemplate = typeof model.fileInfo.metadata?.tokenizer?.chat_template === "string";
  const chatWrapper = llamaCpp.resolveChatWrapper(model) ?? new llamaCpp.GeneralChatWrapper();
  const vocabularySize = readVocabularySize(model);

  return {
    sequenceContextSize: context.contextSize,
    chatFormat: `${chatWrapper.wrapperName} (${hasTemplate ? "from the model's chat template" : "the model has no chat template"})`,
    chatPrompt(messages) {
      const state = chatWrapper.generateContextState({ chatHistory: toChatHistory(messages) });
      const stopTokens = new Set<Token>();
      for (const trigger of state.stopGenerationTriggers) {
        const tokens = trigger.tokenize(model.tokenizer);
        if (tokens.length === 1 && tokens[0] !== undefined && model.isSpecialToken(tokens[0]))
          stopTokens.add(tokens[0]);
      }
      return { tokens: state.contextText.tokenize(model.tokenizer), stopTokens };
    },
    textPrompt(prompt) {
      if (typeof prompt !== "string") {
        const bad = prompt.find((id) => vocabularySize !== null && id >= vocabularySize);
        if (bad !== undefined)
          throw new InvalidTokenError(`prompt token ${bad} is outside the vocabulary (${vocabularySize})`);
        return { tokens: prompt as Token[], stopTokens: new Set() };
      }
      const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
      const tokens = model.tokenize(prompt, true);
      return { tokens: bos !== null && tokens[0] !== bos ? [bos, ...tokens] : tokens, stopTokens: new Set() };
    },
    async generate(prompt, sampling, onText, signal) {
      const contextTokens = context.contextSize;
      if (prompt.tokens.length === 0) throw new InvalidTokenError("the prompt is empty after tokenization");
      if (prompt.tokens.length >= contextTokens)
        throw new ContextSizeExceededError(prompt.tokens.length, contextTokens);
      const sequence = await pool.acquire(
        signal,
        (candidate) => candidate.compareContextTokens(prompt.tokens as Token[]).firstDifferentIndex,
      );
      try {
        return await generateOnSequence(model, sequence, prompt, sampling, onText, signal, metrics);
      } finally {
        pool.release(sequence);
      }
    },
    queueState: () => ({ processing: pool.busy, deferred: pool.waiting }),
    stopAccepting: (reason) => pool.close(reason),
    async dispose() {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

function toChatHistory(messages: readonly ChatMessage[]): NodeLlamaCpp.ChatHistoryItem[] {
  const history: NodeLlamaCpp.ChatHistoryItem[] = messages.map((message) => {
    if (message.role === "assistant") return { type: "model", response: [message.content] };
    if (message.role === "user") return { type: "user", text: message.content };
    return { type: "system", text: message.content };
  });
  // A trailing assistant message is continued; otherwise the model answers in a new turn.
  if (messages.at(-1)?.role !== "assistant") history.push({ type: "model", response: [] });
  return history;
}

function readVocabularySize(model: NodeLlamaCpp.LlamaModel): number | null {
  const tokens: unknown = model.fileInfo.metadata?.tokenizer?.ggml?.tokens;
  return Array.isArray(tokens) ? tokens.length : null;
}
