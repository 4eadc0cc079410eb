/**
 * Where a JSON text first stops being valid JSON (RFC 8259, the grammar JSON.parse accepts).
 * V8's SyntaxError messages only sometimes carry a position ("Unexpected token '}', ... is not
 * valid JSON" has none), and users need one to fix a hand-edited or truncated config.json.
 */

export interface JsonErrorPosition {
  /** 0-based offset in UTF-16 code units (text.length when the text ends too early). */
  offset: number;
  /** 1-based line and column. */
  line: number;
  column: number;
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const HEX = /^[0-9a-fA-F]{4}$/;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class SyntaxAt extends Error {
  constructor(readonly offset: number) {
    super(`JSON syntax error at ${offset}`);
  }
}

class JsonScanner {
  constructor(
    private readonly text: string,
    public pos = 0,
  ) {}

  private fail(): never {
    throw new SyntaxAt(this.pos);
  }

  skipWhitespace(): void {
    while (this.pos < this.text.length && WHITESPACE.has(this.text.charAt(this.pos))) this.pos++;
  }

  private expect(char: string): void {
    if (this.text.charAt(this.pos) !== char) this.fail();
    this.pos++;
  }

  value(): void {
    this.skipWhitespace();
    const char = this.text.charAt(this.pos);
    if (char === "{") this.object();
    else if (char === "[") this.array();
    else if (char === '"') this.string();
    else if (char === "t") this.literal("true");
    else if (char === "f") this.literal("false");
    else if (char === "n") this.literal("null");
    else this.number();
  }

  private literal(word: string): void {
    for (const char of word) this.expect(char);
  }

  private number(): void {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail();
    // A number cut short ("1." or "1e") fails at the character after the valid prefix.
    this.pos += match[0].length;
    const next = this.text.charAt(this.pos);
    if (next === "." || next === "e" || next === "E") this.fail();
  }

  private string(): void {
    this.expect('"');
    while (this.pos < this.text.length) {
      const code = this.text.charCodeAt(this.pos);
      if (code === 0x22) {
        this.pos++;
        return;
      }
      if (code < 0x20) this.fail();
      if (code === 0x5c) {
        const escaped = this.text.charAt(this.pos + 1);
        if (escaped === "u") {
          if (!HEX.test(this.text.slice(this.pos + 2, this.pos + 6))) {
            this.pos += 2;
            this.fail();
          }
          this.pos += 6;
        } else if (ESCAPES.has(escaped)) {
          this.pos += 2;
        } else {
          this.pos++;
          this.fail();
        }
      } else {
        this.pos++;
      }
    }
    this.fail();
  }

  private array(): void {
    this.expect("[");
    this.skipWhitespace();
    if (this.text.charAt(this.pos) === "]") {
      this.pos++;
    } else {
      for (;;) {
        this.value();
        this.skipWhitespace();
        if (this.text.charAt(this.pos) === "]") break;
        this.expect(",");
      }
      this.pos++;
    }
  }

  private object(): void {
    this.expect("{");
    this.skipWhitespace();
    if (this.text.charAt(this.pos) === "}") {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      this.string();
      this.skipWhitespace();
      this.expect(":");
      this.value();
      this.skipWhitespace();
      if (this.text.charAt(this.pos) === "}") break;
      this.expect(",");
    }
    this.pos++;
  }
}

function toLineColumn(text: string, offset: number): JsonErrorPosition {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { offset, line, column };
}

/** The first invalid position of `text`, or null when it is valid JSON. */
export function locateJsonError(text: string): JsonErrorPosition | null {
  const scanner = new JsonScanner(text);
  try {
    scanner.value();
    scanner.skipWhitespace();
    if (scanner.pos < text.length) throw new SyntaxAt(scanner.pos);
    return null;
  } catch (error) {
    if (error instanceof SyntaxAt) return toLineColumn(text, Math.min(error.offset, text.length));
    // Nesting deep enough to overflow the stack: JSON.parse copes, so report no position.
    if (error instanceof RangeError) return null;
    throw error;
  }
}
