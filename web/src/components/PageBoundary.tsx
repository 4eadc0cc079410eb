/**
 * Catches what a page throws while rendering, its lazy chunk failing to load included (a studio
 * rebuilt or upgraded since this tab opened serves new chunk names): the page says what failed and
 * offers a reload, instead of leaving the screen blank. The shell stays usable; navigating resets it.
 */
import { Component, type ReactNode } from "react";

function isChunkFailure(error: Error): boolean {
  return /dynamically imported module|Importing a module script failed|error loading dynamically/i.test(
    error.message,
  );
}

export class PageBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: unknown): { error: Error } {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  componentDidCatch(error: Error): void {
    console.error("page failed:", error);
  }

  render(): ReactNode {
    const { error } = this.state;
    if (error === null) return this.props.children;
    const chunk = isChunkFailure(error);
    return (
      <section className="card page-failed" role="alert">
        <h1>{chunk ? "This page could not be loaded" : "This page failed"}</h1>
        <p>
          {chunk
            ? "The studio was probably updated since this tab was opened: its files have new names now."
            : "Something in this page broke while showing it."}
        </p>
        <p className="muted">
          <code>{error.message}</code>
        </p>
        <button type="button" className="primary" onClick={() => window.location.reload()}>
          Reload
        </button>
      </section>
    );
  }
}
