/** The chats: list (refreshed on `chat` events), new chat, rename and delete (with a confirmation). */
import { type FormEvent, useState } from "react";
import { Link } from "wouter";
import { api } from "../../api";
import { ErrorBox } from "../../components/ErrorBox";
import type { SessionSummary } from "./types";

function tokensOf(chat: SessionSummary): number {
  return chat.usage.promptTokens + chat.usage.completionTokens;
}

function Row({
  chat,
  current,
  onChanged,
  onDeleted,
}: {
  chat: SessionSummary;
  current: boolean;
  onChanged: () => void;
  onDeleted: (id: string) => void;
}) {
  const [mode, setMode] = useState<"view" | "rename" | "delete">("view");
  const [title, setTitle] = useState(chat.title);
  const [error, setError] = useState<unknown>(null);
  const rename = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await api(`/api/chats/${encodeURIComponent(chat.id)}`, {
        method: "PATCH",
        body: { title: title.trim() },
      });
      setMode("view");
      onChanged();
    } catch (e) {
      setError(e);
    }
  };
  const remove = async () => {
    setError(null);
    try {
      await api(`/api/chats/${encodeURIComponent(chat.id)}`, { method: "DELETE" });
      onDeleted(chat.id);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <li className={current ? "chat-item current" : "chat-item"} data-chat={chat.id}>
      {mode === "rename" ? (
        <form onSubmit={rename} className="chat-rename">
          <label htmlFor={`rename-${chat.id}`} className="visually-hidden">
            New title for {chat.title}
          </label>
          <input
            id={`rename-${chat.id}`}
            value={title}
            maxLength={200}
            onChange={(event) => setTitle(event.target.value)}
            // biome-ignore lint/a11y/noAutofocus: the field the user just asked for
            autoFocus
          />
          <button type="submit" disabled={!title.trim()}>
            Save
          </button>
          <button type="button" onClick={() => setMode("view")}>
            Cancel
          </button>
        </form>
      ) : (
        <>
          <Link href={`/${chat.id}`} aria-current={current ? "page" : undefined} className="chat-link">
            <span className="chat-title">{chat.title}</span>
            <span className="muted chat-meta">
              {chat.messageCount} msg · {tokensOf(chat)} tok{chat.model ? ` · ${chat.model}` : ""}
            </span>
          </Link>
          {mode === "delete" ? (
            <div className="chat-confirm">
              <span>Delete this chat?</span>
              <button type="button" className="danger" onClick={remove}>
                Delete
              </button>
              <button type="button" onClick={() => setMode("view")}>
                Keep
              </button>
            </div>
          ) : (
            <div className="chat-item-actions">
              <button
                type="button"
                className="link"
                onClick={() => {
                  setTitle(chat.title);
                  setMode("rename");
                }}
                aria-label={`Rename ${chat.title}`}
              >
                Rename
              </button>
              <button
                type="button"
                className="link"
                onClick={() => setMode("delete")}
                aria-label={`Delete ${chat.title}`}
              >
                Delete
              </button>
            </div>
          )}
        </>
      )}
      <ErrorBox error={error} />
    </li>
  );
}

export function Sidebar({
  chats,
  currentId,
  error,
  onNew,
  onChanged,
  onDeleted,
}: {
  chats: SessionSummary[] | null;
  currentId: string | null;
  error: unknown;
  onNew: () => void;
  onChanged: () => void;
  onDeleted: (id: string) => void;
}) {
  return (
    <aside className="chat-sidebar" aria-labelledby="chats-title">
      <div className="chat-sidebar-head">
        <h2 id="chats-title">Chats</h2>
        <button type="button" className="primary" onClick={onNew}>
          New chat
        </button>
      </div>
      <ErrorBox error={error} />
      {chats === null ? (
        <p className="muted">Loading…</p>
      ) : chats.length === 0 ? (
        <p className="muted">No chats yet.</p>
      ) : (
        <ul className="chat-list">
          {chats.map((chat) => (
            <Row
              key={chat.id}
              chat={chat}
              current={chat.id === currentId}
              onChanged={onChanged}
              onDeleted={onDeleted}
            />
          ))}
        </ul>
      )}
    </aside>
  );
}
