/**
 * Moves `<think>…</think>` out of generated text, for models whose engine runs without a reasoning
 * parser (vLLM `--reasoning-parser`, SGLang `--reasoning-parser`, llama-server `--reasoning-format`
 * do this on the engine side and then send `reasoning_content` themselves).
 *
 * Streaming-safe: text arrives in pieces that may split a tag anywhere ("<thi" + "nk>"), so a piece
 * ending in what could be the start of a tag is held back until the next piece (or `flush`) tells.
 * Nothing else is held: text that cannot be part of a tag is released at once.
 */
const OPEN = "<think>";
const CLOSE = "</think>";

export interface SplitText {
  content: string;
  reasoning: string;
}

/** The length of the longest suffix of `text` that is a proper prefix of `tag`. */
function partialTagLength(text: string, tag: string): number {
  const max = Math.min(text.length, tag.length - 1);
  for (let length = max; length > 0; length--) {
    if (tag.startsWith(text.slice(text.length - length))) return length;
  }
  return 0;
}

export class ThinkSplitter {
  private thinking = false;
  private held = "";

  /** Splits the next piece of generated text; held-back characters come out with a later piece. */
  push(piece: string): SplitText {
    const out: SplitText = { content: "", reasoning: "" };
    let text = this.held + piece;
    this.held = "";
    for (;;) {
      const tag = this.thinking ? CLOSE : OPEN;
      const at = text.indexOf(tag);
      if (at < 0) break;
      this.emit(out, text.slice(0, at));
      text = text.slice(at + tag.length);
      this.thinking = !this.thinking;
    }
    const partial = partialTagLength(text, this.thinking ? CLOSE : OPEN);
    this.emit(out, text.slice(0, text.length - partial));
    this.held = text.slice(text.length - partial);
    return out;
  }

  /** Releases what was held back (the text has ended: a partial tag is plain text after all). */
  flush(): SplitText {
    const out: SplitText = { content: "", reasoning: "" };
    this.emit(out, this.held);
    this.held = "";
    return out;
  }

  private emit(out: SplitText, text: string): void {
    if (this.thinking) out.reasoning += text;
    else out.content += text;
  }
}

/** The whole-text form: content without the think blocks, and the reasoning they held (null if none). */
export function splitThink(text: string): { content: string; reasoning: string | null } {
  const splitter = new ThinkSplitter();
  const a = splitter.push(text);
  const b = splitter.flush();
  const reasoning = a.reasoning + b.reasoning;
  return { content: a.content + b.content, reasoning: text.includes(OPEN) ? reasoning : null };
}
