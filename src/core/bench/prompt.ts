/**
 * The synthetic prompt of a benchmark: deterministic text of about `tokens` tokens. It is made of
 * short common English words, each one token (with its leading space) in the BPE vocabularies of the
 * usual model families, so the engine's count lands close to the request; the engine's own count
 * (usage.prompt_tokens) is what the results report. `salt` makes prompts differ per request so that
 * a prefix cache does not serve them from memory.
 */

const WORDS = [
  "the",
  "of",
  "and",
  "to",
  "in",
  "is",
  "it",
  "that",
  "for",
  "on",
  "with",
  "as",
  "was",
  "at",
  "by",
  "this",
  "from",
  "but",
  "not",
  "or",
  "have",
  "are",
  "they",
  "we",
  "you",
  "one",
  "all",
  "can",
  "her",
  "his",
  "there",
  "been",
  "if",
  "more",
  "when",
  "will",
  "would",
  "who",
  "so",
  "no",
  "out",
  "up",
  "into",
  "time",
  "new",
  "some",
  "could",
  "them",
  "other",
  "than",
  "then",
  "now",
  "only",
  "its",
  "over",
  "also",
  "after",
  "first",
  "well",
  "year",
  "work",
  "way",
  "even",
  "back",
  "any",
  "good",
  "day",
  "most",
  "us",
] as const;

const INSTRUCTION = "Repeat the words below and then continue writing:";

/** A deterministic prompt of about `tokens` tokens (at least one word); `salt` varies the words. */
export function syntheticPrompt(tokens: number, salt = 0): string {
  const total = Math.max(1, Math.round(tokens));
  const instruction = INSTRUCTION.split(" ");
  const withInstruction = total > instruction.length * 2;
  const words = withInstruction ? total - instruction.length : total;
  // a small linear congruential generator: the same (tokens, salt) always gives the same text
  let state = (Math.imul(salt, 2_654_435_761) + 12_345) >>> 0;
  const out: string[] = withInstruction ? [...instruction] : [];
  for (let i = 0; i < words; i++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    out.push(WORDS[(state >>> 8) % WORDS.length] as string);
  }
  return out.join(" ");
}
