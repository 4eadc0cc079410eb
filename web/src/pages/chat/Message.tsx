/** One message of the list: markdown body, collapsible reasoning, tool-call cards, tokens, fork. */

import { MessageImages } from "./Images";
import { Markdown } from "./Markdown";
import type { ChatMessage, LiveToolCall, Tokens, ToolCall } from "./types";

export function tokenText(tokens: Tokens | undefined): string | null {
  if (!tokens || (tokens.promptTokens === null && tokens.completionTokens === null)) return null;
  const parts = [`${tokens.promptTokens ?? "?"} prompt`, `${tokens.completionTokens ?? "?"} completion`];
  if (tokens.cachedTokens) parts.push(`${tokens.cachedTokens} cached`);
  let text = `${parts.join(" · ")} tokens`;
  if (tokens.ttftMs !== null && tokens.ttftMs !== undefined)
    text += ` · TTFT ${Math.round(tokens.ttftMs)} ms`;
  return text;
}

function prettyArguments(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function Reasoning({ text, open }: { text: string; open: boolean }) {
  return (
    <details className="reasoning" open={open}>
      <summary>Reasoning ({text.length} chars)</summary>
      <div className="reasoning-body">{text}</div>
    </details>
  );
}

export function ToolCard({
  call,
  result,
  live,
  onDecide,
}: {
  call: ToolCall;
  result: { content: string; isError: boolean } | null;
  live: LiveToolCall | undefined;
  onDecide: (callId: string, approve: boolean) => void;
}) {
  const waiting = !result && live?.needsApproval && live.decided === null;
  const state = result
    ? result.isError
      ? "error"
      : "done"
    : waiting
      ? "waiting for approval"
      : live?.decided === false
        ? "denied"
        : "running";
  return (
    <div className="tool-card" data-tool-call={call.id}>
      <div className="tool-head">
        <span className="tool-name">{call.function.name}</span>
        <span className={`badge ${result?.isError ? "bad" : result ? "ok" : "busy"}`}>{state}</span>
      </div>
      <details>
        <summary>Arguments</summary>
        <pre className="tool-args">{prettyArguments(call.function.arguments)}</pre>
      </details>
      {result && (
        <details open={result.isError}>
          <summary>{result.isError ? "Error" : "Result"}</summary>
          <pre className="tool-args">{result.content}</pre>
        </details>
      )}
      {waiting && (
        <div className="tool-actions">
          <button
            type="button"
            className="primary"
            onClick={() => onDecide(call.id, true)}
            aria-label={`Approve ${call.function.name}`}
          >
            Approve
          </button>
          <button
            type="button"
            onClick={() => onDecide(call.id, false)}
            aria-label={`Deny ${call.function.name}`}
          >
            Deny
          </button>
        </div>
      )}
    </div>
  );
}

const ROLE_LABEL: Record<ChatMessage["role"], string> = {
  system: "System",
  user: "You",
  assistant: "Assistant",
  tool: "Tool",
};

export function MessageView({
  message,
  tokens,
  results,
  liveTools,
  busy,
  onFork,
  onDecide,
}: {
  message: ChatMessage;
  tokens: Tokens | undefined;
  results: Map<string, { content: string; isError: boolean }>;
  liveTools: Map<string, LiveToolCall>;
  busy: boolean;
  onFork: (messageId: string) => void;
  onDecide: (callId: string, approve: boolean) => void;
}) {
  const usage = tokenText(tokens);
  return (
    <li className={`message ${message.role}`} data-message={message.id} data-role={message.role}>
      <div className="message-head">
        <span className="message-role">{ROLE_LABEL[message.role]}</span>
        <button
          type="button"
          className="link"
          onClick={() => onFork(message.id)}
          disabled={busy}
          aria-label={`Fork the chat at message ${message.seq}`}
          title="A new chat with the messages up to this one"
        >
          Fork
        </button>
      </div>
      {message.reasoningContent && <Reasoning text={message.reasoningContent} open={false} />}
      {message.role === "user" || message.role === "system" ? (
        <>
          <div className="plain-text">{message.content}</div>
          <MessageImages sessionId={message.sessionId} images={message.images} />
        </>
      ) : message.role === "tool" ? (
        <pre className="tool-args">{message.content}</pre>
      ) : (
        message.content !== "" && <Markdown text={message.content} />
      )}
      {message.toolCalls?.map((call) => (
        <ToolCard
          key={call.id}
          call={call}
          result={results.get(call.id) ?? liveTools.get(call.id)?.result ?? null}
          live={liveTools.get(call.id)}
          onDecide={onDecide}
        />
      ))}
      {usage && (
        <div className="message-tokens muted" data-testid="message-tokens">
          {usage}
        </div>
      )}
    </li>
  );
}
