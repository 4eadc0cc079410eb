import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitThink, ThinkSplitter } from "../../../src/core/gateway/think-splitter.js";

/** Feeds `pieces` one by one and returns what came out in all. */
function streamed(pieces: string[]) {
  const splitter = new ThinkSplitter();
  let content = "";
  let reasoning = "";
  for (const piece of [...pieces.map((p) => splitter.push(p)), splitter.flush()]) {
    content += piece.content;
    reasoning += piece.reasoning;
  }
  return { content, reasoning };
}

/** Cuts `text` at the given fractions. */
function cut(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * (text.length + 1))))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let last = 0;
  for (const i of at) {
    pieces.push(text.slice(last, i));
    last = i;
  }
  pieces.push(text.slice(last));
  return pieces;
}

describe("ThinkSplitter", () => {
  it("moves think blocks to reasoning, wherever the chunks split the tags", () => {
    expect(streamed(["<thi", "nk>plan", "ning</th", "ink>\n\nThe answer"])).toEqual({
      content: "\n\nThe answer",
      reasoning: "planning",
    });
    expect(streamed(["a < b and <t", "able>"])).toEqual({ content: "a < b and <table>", reasoning: "" });
    // a partial tag at the very end is text after all
    expect(streamed(["done <thin"])).toEqual({ content: "done <thin", reasoning: "" });
    expect(splitThink("<think>x</think>y")).toEqual({ content: "y", reasoning: "x" });
    expect(splitThink("no tags")).toEqual({ content: "no tags", reasoning: null });
  });

  it("releases text that cannot start a tag at once (nothing else is held back)", () => {
    const splitter = new ThinkSplitter();
    expect(splitter.push("hello")).toEqual({ content: "hello", reasoning: "" });
    expect(splitter.push(" <")).toEqual({ content: " ", reasoning: "" });
    expect(splitter.push("b>")).toEqual({ content: "<b>", reasoning: "" });
  });

  it("gives the same result however the text is chunked", () => {
    const alphabet = fc.constantFrom("a", " ", "<", ">", "/", "t", "h", "i", "n", "k", "<think>", "</think>");
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 40 }).map((parts) => parts.join("")),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
        (text, cuts) => {
          const whole = streamed([text]);
          expect(streamed(cut(text, cuts))).toEqual(whole);
          // nothing is lost: the tags are the only characters removed
          expect(whole.content.length + whole.reasoning.length).toBeLessThanOrEqual(text.length);
          if (!text.includes("<think>")) expect(whole).toEqual({ content: text, reasoning: "" });
        },
      ),
    );
  });
});
