import { ApiError } from "../api";

/** The server's {error: {code, message, hint}}, or any other failure. */
export function ErrorBox({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  if (error instanceof ApiError) {
    return (
      <div className="error" role="alert">
        <strong>{error.code}</strong>: {error.message}
        {error.hint && <div className="hint">Hint: {error.hint}</div>}
      </div>
    );
  }
  return (
    <div className="error" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </div>
  );
}
