/** Asks for the studio's API key when a call answered 401; the key goes to sessionStorage. */
import { type FormEvent, useEffect, useRef, useState } from "react";
import { provideKey } from "../api";

export function KeyPrompt({ reason, onDone }: { reason: string; onDone: () => void }) {
  const [key, setKey] = useState("");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim() === "") return;
    onDone();
    provideKey(key.trim());
  };
  return (
    <div className="key-backdrop">
      <form
        className="key-prompt card"
        onSubmit={submit}
        aria-labelledby="key-title"
        role="dialog"
        aria-modal="true"
      >
        <h2 id="key-title">API key required</h2>
        <p className="muted">
          This studio was started with <code>--api-key</code> (it answered “{reason}”). The key is kept for
          this browser tab only.
        </p>
        <label htmlFor="api-key">API key</label>
        <input
          ref={input}
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="current-password"
          value={key}
          onChange={(event) => setKey(event.target.value)}
          required
        />
        <div className="actions">
          <button type="submit" className="primary">
            Use key
          </button>
        </div>
      </form>
    </div>
  );
}
