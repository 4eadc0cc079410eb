/** The result of a pure parser: the value, or why the text could not be read. Parsers never throw. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };
