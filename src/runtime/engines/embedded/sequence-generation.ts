/**
 * One request's generation on one sequence: reuse the prefix the sequence already holds, decode the
 * rest of the prompt, then sample token by token — counting every token (end-of-generation and
 * stop-string tokens too, like llama-server's n_decoded), streaming text as it settles (a partial
 * UTF-8 character waits for the token that completes it; a possible stop-string start waits for the
 * token that settles it), and stopping at max_tokens, a full sequence, a stop string, an
 * end-of-generation token or an abort. No context shift, as llama-server by default.
 */
import type * as NodeLlamaCpp from "node-llama-cpp";
import type { GenerationResult, PromptInput } from "./llama-engine.js";
import type { EmbeddedServerMetrics } from "./metrics.js";
import type { SamplingOptions } from "./openai-request.js";
import type { FinishReason } from "./openai-response.js";
import { scanForStop } from "./stop-strings.js";

type Token = NodeLlamaCpp.Token;

/** How many generated tokens a partial UTF-8 character may span before its text is let through. */
const MAX_PENDING_TOKENS = 4;

export async function generateOnSequence(
  model: NodeLlamaCpp.LlamaModel,
  sequence: NodeLlamaCpp.LlamaContextSequence,
  prompt: PromptInput,
  sampling: SamplingOptions,
  onText: (delta: string) => void,
  signal: AbortSignal,
  metrics: EmbeddedServerMetrics,
): Promise<GenerationResult> {
  const started = performance.now();
  // Reuse the longest prefix this sequence already holds (llama-server's cache_prompt); the last
  // prompt token is always decoded again to get the logits of the first generated token.
  await sequence.adaptStateToTokens(prompt.tokens.slice(0, -1) as Token[], false);
  const reused = sequence.nextTokenIndex;
  const toDecode = prompt.tokens.slice(reused) as Token[];
  const budget = Math.min(
    sampling.maxTokens ?? Number.POSITIVE_INFINITY,
    sequence.contextSize - prompt.tokens.length,
  );

  const generated: Token[] = [];
  let pending: Token[] = [];
  let text = "";
  let sent = 0;
  let completionTokens = 0;
  let finishReason: FinishReason = "length";
  let stopped = false;
  let firstTokenAt: number | null = null;

  const settle = (final: boolean) => {
    const scan = scanForStop(text, sampling.stop, sent);
    const sendable = scan.stopped || !final ? scan.sendable : text;
    if (scan.stopped) {
      text = scan.sendable;
      stopped = true;
    }
    if (sendable.length > sent) {
      onText(sendable.slice(sent));
      sent = sendable.length;
    }
  };
  const takePending = () => {
    text += model.detokenize(pending, false, generated.slice(-8));
    generated.push(...pending);
    pending = [];
  };

  if (budget > 0 && !signal.aborted) {
    const tokens = sequence.evaluate(toDecode, {
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      minP: sampling.minP,
      ...(sampling.seed === null ? {} : { seed: sampling.seed }),
      yieldEogToken: true,
    });
    for await (const token of tokens) {
      if (firstTokenAt === null) {
        firstTokenAt = performance.now();
        metrics.recordPrompt(toDecode.length, (firstTokenAt - started) / 1000);
      }
      completionTokens++;
      if (model.isEogToken(token) || prompt.stopTokens.has(token)) {
        finishReason = "stop";
        break;
      }
      pending.push(token);
      const piece = model.detokenize(pending, false, generated.slice(-8));
      if (!piece.endsWith("\uFFFD") || pending.length >= MAX_PENDING_TOKENS) takePending();
      settle(false);
      if (stopped) {
        finishReason = "stop";
        break;
      }
      if (completionTokens >= budget || signal.aborted) break;
    }
  }
  if (!stopped) {
    if (pending.length > 0) takePending();
    settle(true);
    if (stopped) finishReason = "stop";
  }
  const finished = performance.now();
  const promptMs = (firstTokenAt ?? finished) - started;
  const predictedMs = firstTokenAt === null ? 0 : finished - firstTokenAt;
  metrics.recordGeneration(completionTokens, predictedMs / 1000, prompt.tokens.length + completionTokens);
  return {
    text,
    finishReason,
    promptTokens: prompt.tokens.length,
    promptTokensDecoded: firstTokenAt === null ? 0 : toDecode.length,
    completionTokens,
    promptMs,
    predictedMs,
  };
}
