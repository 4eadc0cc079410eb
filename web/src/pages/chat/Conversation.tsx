/**
 * One chat (`/chat/:id`): model picker, messages, the streamed turn, composer, stop, regenerate, fork,
 * export and token counts.
 */
import {
  type ClipboardEvent,
  type FormEvent,
  type KeyboardEvent,
  useCallback,
  useEffect,
  useRef,
  useState,
} from "react";
import { useLocation } from "wouter";
import { api, apiFetch, errorText } from "../../api";
import { ErrorBox } from "../../components/ErrorBox";
import { useEvents } from "../../events";
import { ACCEPTED_TYPES, type Attachment, AttachmentList, MAX_IMAGES, toAttachments } from "./Images";
import { Markdown } from "./Markdown";
import { MessageView, Reasoning } from "./Message";
import { type ChatStreamEvent, type CompleteRequest, streamComplete } from "./stream";
import type {
  ChatMessage,
  ChatWithMessages,
  GatewayModel,
  LiveToolCall,
  SessionUsage,
  Tokens,
} from "./types";

/** A chat's title until the studio names it after the first exchange (src/studio/chats/store.ts). */
const DEFAULT_TITLE = "New chat";

interface Turn {
  pendingUser: string | null;
  content: string;
  reasoning: string;
}

function mergeMessages(current: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

function useModels() {
  const [models, setModels] = useState<GatewayModel[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const load = useCallback(() => {
    api<{ data: GatewayModel[] }>("/v1/models")
      .then((body) => {
        setModels(body.data);
        setError(null);
      })
      .catch(setError);
  }, []);
  useEffect(() => {
    load();
    return () => {
      if (timer.current) clearTimeout(timer.current);
    };
  }, [load]);
  useEvents(["instance"], () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(load, 300);
  });
  return { models, error };
}

function ModelPicker({
  models,
  value,
  onChange,
  disabled,
}: {
  models: GatewayModel[] | null;
  value: string;
  onChange: (model: string) => void;
  disabled: boolean;
}) {
  const running = (models ?? []).filter((m) => !m.servepilot?.onDemand);
  const onDemand = (models ?? []).filter((m) => m.servepilot?.onDemand);
  const known = (models ?? []).some((m) => m.id === value);
  return (
    <div className="field chat-model">
      <label htmlFor="chat-model">Model</label>
      <select
        id="chat-model"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        disabled={disabled}
      >
        {value === "" && <option value="">{models === null ? "Loading…" : "Choose a model"}</option>}
        {value !== "" && !known && <option value={value}>{value} (not running)</option>}
        {running.length > 0 && (
          <optgroup label="Running">
            {running.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
                {m.servepilot?.status && m.servepilot.status !== "ready" ? ` (${m.servepilot.status})` : ""}
              </option>
            ))}
          </optgroup>
        )}
        {onDemand.length > 0 && (
          <optgroup label="On demand (started by the first request)">
            {onDemand.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id} (on demand)
              </option>
            ))}
          </optgroup>
        )}
      </select>
    </div>
  );
}

async function download(chatId: string, format: "markdown" | "json"): Promise<void> {
  const response = await apiFetch(
    `/api/chats/${encodeURIComponent(chatId)}/export?format=${format}`,
    {},
    format === "json" ? "application/json" : "text/markdown",
  );
  const blob = await response.blob();
  const named = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1];
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = named ?? `chat-${chatId}.${format === "json" ? "json" : "md"}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function Conversation({ id, onListChanged }: { id: string; onListChanged: () => void }) {
  const [, navigate] = useLocation();
  const [chat, setChat] = useState<ChatWithMessages | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const { models, error: modelsError } = useModels();
  const [model, setModel] = useState("");
  const [usage, setUsage] = useState<SessionUsage | null>(null);
  const [liveTokens, setLiveTokens] = useState<Map<string, Tokens>>(new Map());
  const [liveTools, setLiveTools] = useState<Map<string, LiveToolCall>>(new Map());
  const [turn, setTurn] = useState<Turn | null>(null);
  const [status, setStatus] = useState("");
  const [warnings, setWarnings] = useState<string[]>([]);
  const [draft, setDraft] = useState("");
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [refused, setRefused] = useState<string[]>([]);
  const fileInput = useRef<HTMLInputElement | null>(null);
  const [temperature, setTemperature] = useState("");
  const [maxTokens, setMaxTokens] = useState("");
  const controller = useRef<AbortController | null>(null);
  /** Model calls answered in the running turn (one assistant message each). */
  const calls = useRef(0);
  const end = useRef<HTMLDivElement>(null);
  const streaming = turn !== null;

  /** `merge` keeps messages that arrived on the stream while the chat was loading. */
  const loadChat = useCallback(
    async (merge = false) => {
      try {
        const loaded = await api<ChatWithMessages>(`/api/chats/${encodeURIComponent(id)}`);
        setChat((current) =>
          merge && current?.id === loaded.id
            ? { ...loaded, messages: mergeMessages(loaded.messages, current.messages) }
            : loaded,
        );
        setLoadError(null);
        return loaded;
      } catch (e) {
        setLoadError(e);
        return null;
      }
    },
    [id],
  );

  const loadUsage = useCallback(async () => {
    try {
      const loaded = await api<SessionUsage>(`/api/chats/${encodeURIComponent(id)}/usage`);
      setUsage(loaded);
      return loaded;
    } catch {
      return null;
    }
  }, [id]);

  /** The gateway records requests in batches: poll a little until the new rows are in. */
  const refreshUsage = useCallback(
    async (atLeast: number) => {
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const loaded = await loadUsage();
        if (!loaded || loaded.requests >= atLeast) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
    [loadUsage],
  );

  useEffect(() => {
    setChat(null);
    setUsage(null);
    setLiveTokens(new Map());
    setLiveTools(new Map());
    setWarnings([]);
    setStatus("");
    setError(null);
    void loadChat();
    void loadUsage();
    return () => controller.current?.abort();
  }, [loadChat, loadUsage]);

  // the chat's model, else the first running one
  useEffect(() => {
    if (chat?.model) setModel(chat.model);
    else if (models && model === "") {
      const first = models.find((m) => !m.servepilot?.onDemand) ?? models[0];
      if (first) setModel(first.id);
    }
  }, [chat?.model, models, model]);

  // keep the newest text in view while answering
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when the streamed text grows
  useEffect(() => {
    if (!streaming) return;
    const nearBottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 200;
    if (nearBottom) end.current?.scrollIntoView({ block: "end" });
  }, [streaming, turn?.content.length, turn?.reasoning.length, chat?.messages.length]);

  const changeModel = async (next: string) => {
    setModel(next);
    if (!chat || next === "") return;
    try {
      const updated = await api<ChatWithMessages>(`/api/chats/${encodeURIComponent(id)}`, {
        method: "PATCH",
        body: { model: next },
      });
      setChat((current) => (current ? { ...current, model: updated.model } : current));
      onListChanged();
    } catch (e) {
      setError(e);
    }
  };

  const onEvent = (event: ChatStreamEvent) => {
    const data = event.data;
    switch (event.type) {
      case "delta":
        setTurn((t) => (t ? { ...t, content: t.content + (data.content ?? "") } : t));
        break;
      case "reasoning":
        setTurn((t) => (t ? { ...t, reasoning: t.reasoning + (data.content ?? "") } : t));
        break;
      case "message": {
        const message = data as ChatMessage;
        setChat((current) =>
          current ? { ...current, messages: mergeMessages(current.messages, [message]) } : current,
        );
        if (message.role === "assistant") {
          calls.current += 1;
          setTurn((t) => (t ? { ...t, content: "", reasoning: "" } : t));
        }
        break;
      }
      case "tool_call":
        setLiveTools((current) =>
          new Map(current).set(data.id, {
            id: data.id,
            server: data.server,
            name: data.name,
            needsApproval: Boolean(data.needsApproval),
            decided: null,
            result: null,
          }),
        );
        setStatus(data.needsApproval ? `Waiting for your approval of ${data.name}` : `Running ${data.name}…`);
        break;
      case "tool_result":
        setLiveTools((current) => {
          const entry = current.get(data.id);
          const next = new Map(current);
          next.set(data.id, {
            id: data.id,
            server: entry?.server ?? "",
            name: entry?.name ?? "",
            needsApproval: entry?.needsApproval ?? false,
            decided: entry?.decided ?? null,
            result: { content: String(data.content ?? ""), isError: Boolean(data.isError) },
          });
          return next;
        });
        setStatus("Answering…");
        break;
      case "usage":
        if (data.requestId) {
          setLiveTokens((current) =>
            new Map(current).set(data.requestId, {
              promptTokens: data.promptTokens ?? null,
              completionTokens: data.completionTokens ?? null,
              cachedTokens: data.cachedTokens ?? null,
            }),
          );
        }
        break;
      case "title":
        setChat((current) => (current ? { ...current, title: data.title } : current));
        onListChanged();
        break;
      case "warning":
        setWarnings((current) => [...current, `${data.server}: ${data.message}`]);
        break;
      case "done":
        setStatus(`Done${data.finishReason ? ` (${data.finishReason})` : ""}`);
        break;
      case "error":
        setError(new Error(`${data.code ?? "ERROR"}: ${data.message ?? "the turn failed"}`));
        setStatus("Failed");
        break;
    }
  };

  const attach = async (files: File[]) => {
    if (files.length === 0) return;
    const { added, refused: notAdded } = await toAttachments(files, attachments.length);
    setRefused(notAdded);
    if (added.length > 0) setAttachments((current) => [...current, ...added]);
  };
  const removeAttachment = (key: string) => {
    setAttachments((current) => {
      const gone = current.find((a) => a.key === key);
      if (gone) URL.revokeObjectURL(gone.previewUrl);
      return current.filter((a) => a.key !== key);
    });
  };
  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const files = [...event.clipboardData.files].filter((f) => f.type.startsWith("image/"));
    if (files.length === 0) return;
    event.preventDefault();
    void attach(files);
  };

  const run = async (body: CompleteRequest, pendingUser: string | null, sent: Attachment[] = []) => {
    const abort = new AbortController();
    controller.current = abort;
    setError(null);
    setWarnings([]);
    setStatus("Answering…");
    setTurn({ pendingUser, content: "", reasoning: "" });
    const requestsBefore = usage?.requests ?? 0;
    // after the first exchange of a chat with the default title, the studio asks the model for a title
    const titleCall = chat !== null && (chat.title === DEFAULT_TITLE || chat.title.trim() === "") ? 1 : 0;
    calls.current = 0;
    const temp = Number.parseFloat(temperature);
    const max = Number.parseInt(maxTokens, 10);
    try {
      await streamComplete(
        id,
        {
          ...body,
          ...(model ? { model } : {}),
          ...(Number.isFinite(temp) ? { temperature: temp } : {}),
          ...(Number.isFinite(max) && max > 0 ? { maxTokens: max } : {}),
        },
        abort.signal,
        onEvent,
        () => {
          // the user message is stored before the stream opens: show the stored one
          void loadChat(true).then(() => setTurn((t) => (t ? { ...t, pendingUser: null } : t)));
        },
      );
    } catch (e) {
      if (abort.signal.aborted) setStatus("Stopped");
      else {
        setError(e);
        setStatus("Failed");
        if (pendingUser !== null) setDraft((current) => (current === "" ? pendingUser : current));
        // the images come back to the composer too, unless new ones were attached meanwhile
        if (sent.length > 0) setAttachments((current) => (current.length === 0 ? sent : current));
      }
    } finally {
      controller.current = null;
      await loadChat();
      setTurn(null);
      onListChanged();
      // every model call of the turn is a request: wait for all of them, then refresh the list's tokens
      void refreshUsage(requestsBefore + Math.max(1, calls.current) + titleCall).then(onListChanged);
    }
  };

  const send = (event?: FormEvent) => {
    event?.preventDefault();
    const content = draft.trim();
    if (!content || streaming) return;
    if (!model) {
      setError(new Error("Choose a model first (start one from the dashboard if none is running)."));
      return;
    }
    setDraft("");
    const sent = attachments;
    setAttachments([]);
    setRefused([]);
    const images = sent.map((a) => ({ mediaType: a.mediaType, data: a.data }));
    void run({ content, ...(images.length > 0 ? { images } : {}) }, content, sent);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  };

  const messages = chat?.messages ?? [];
  const lastUser = [...messages].reverse().find((m) => m.role === "user");

  const regenerate = async () => {
    if (!lastUser || streaming) return;
    setError(null);
    try {
      for (const m of messages.filter((m) => m.seq > lastUser.seq).reverse()) {
        await api(`/api/chats/${encodeURIComponent(id)}/messages/${encodeURIComponent(m.id)}`, {
          method: "DELETE",
        });
      }
    } catch (e) {
      setError(e);
      await loadChat();
      return;
    }
    setChat((current) =>
      current ? { ...current, messages: current.messages.filter((m) => m.seq <= lastUser.seq) } : current,
    );
    void run({}, null);
  };

  const fork = async (messageId: string) => {
    setError(null);
    try {
      const forked = await api<ChatWithMessages>(`/api/chats/${encodeURIComponent(id)}/fork`, {
        body: { messageId },
      });
      onListChanged();
      navigate(`/${forked.id}`);
    } catch (e) {
      setError(e);
    }
  };

  const decide = async (callId: string, approve: boolean) => {
    setLiveTools((current) => {
      const entry = current.get(callId);
      return entry ? new Map(current).set(callId, { ...entry, decided: approve }) : current;
    });
    try {
      await api(`/api/chats/${encodeURIComponent(id)}/tool-calls/${encodeURIComponent(callId)}`, {
        body: { approve },
      });
    } catch (e) {
      setError(e);
    }
  };

  const exportAs = async (format: "markdown" | "json") => {
    try {
      await download(id, format);
    } catch (e) {
      setError(e);
    }
  };

  if (loadError && !chat) {
    return (
      <section className="chat-main">
        <ErrorBox error={loadError} />
      </section>
    );
  }
  if (!chat) {
    return (
      <section className="chat-main">
        <p className="muted">Loading…</p>
      </section>
    );
  }

  const results = new Map<string, { content: string; isError: boolean }>();
  for (const m of messages) {
    if (m.role === "tool" && m.toolCallId) results.set(m.toolCallId, { content: m.content, isError: false });
  }
  const answered = new Set(messages.flatMap((m) => m.toolCalls?.map((c) => c.id) ?? []));
  const perMessage = new Map<string, Tokens>();
  for (const m of usage?.messages ?? []) perMessage.set(m.messageId, m);
  const tokensOf = (m: ChatMessage): Tokens | undefined =>
    perMessage.get(m.id) ?? (m.requestId ? liveTokens.get(m.requestId) : undefined);

  return (
    <section className="chat-main" aria-labelledby="chat-title">
      <div className="chat-head">
        <h2 id="chat-title" data-testid="chat-title">
          {chat.title}
        </h2>
        <p className="muted chat-usage" data-testid="session-tokens">
          {usage
            ? `${usage.requests} request(s) · ${usage.promptTokens} prompt + ${usage.completionTokens} completion = ${usage.totalTokens} tokens`
            : "–"}
        </p>
        <div className="chat-toolbar">
          <ModelPicker models={models} value={model} onChange={changeModel} disabled={streaming} />
          <div className="chat-export">
            <button type="button" onClick={() => exportAs("markdown")}>
              Export Markdown
            </button>
            <button type="button" onClick={() => exportAs("json")}>
              Export JSON
            </button>
          </div>
        </div>
        {chat.forkedFromSessionId && (
          <p className="muted">
            Forked from <a href={`/chat/${chat.forkedFromSessionId}`}>another chat</a>.
          </p>
        )}
        {modelsError !== null && <p className="error-text">Models: {errorText(modelsError)}</p>}
        {models && models.length === 0 && (
          <p className="muted">
            No model is running: launch one from the dashboard, or add an on-demand recipe.
          </p>
        )}
      </div>

      <ol className="messages" aria-label="Messages">
        {messages.length === 0 && !turn && <li className="muted empty">Say something to start.</li>}
        {messages.map((m) =>
          m.role === "tool" && m.toolCallId && answered.has(m.toolCallId) ? null : (
            <MessageView
              key={m.id}
              message={m}
              tokens={tokensOf(m)}
              results={results}
              liveTools={liveTools}
              busy={streaming}
              onFork={fork}
              onDecide={decide}
            />
          ),
        )}
        {turn?.pendingUser && (
          <li className="message user pending" data-role="user">
            <div className="message-head">
              <span className="message-role">You</span>
            </div>
            <div className="plain-text">{turn.pendingUser}</div>
          </li>
        )}
        {turn && (
          <li
            className="message assistant streaming"
            data-role="assistant"
            data-chars={turn.content.length}
            aria-busy="true"
          >
            <div className="message-head">
              <span className="message-role">Assistant</span>
              <span className="muted">streaming…</span>
            </div>
            {turn.reasoning && <Reasoning text={turn.reasoning} open={turn.content === ""} />}
            {turn.content ? <Markdown text={turn.content} /> : <span className="typing" aria-hidden="true" />}
          </li>
        )}
      </ol>
      <div ref={end} />

      {warnings.map((w) => (
        <p key={w} className="warning">
          {w}
        </p>
      ))}
      <ErrorBox error={error} />

      <form className="composer" onSubmit={send}>
        <label htmlFor="chat-input" className="visually-hidden">
          Message
        </label>
        <textarea
          id="chat-input"
          value={draft}
          rows={3}
          placeholder="Message (Enter sends, Shift+Enter for a new line)"
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          aria-describedby="chat-status"
        />
        <AttachmentList attachments={attachments} onRemove={removeAttachment} />
        {refused.length > 0 && (
          <ul className="error-text attachments-refused" aria-live="polite">
            {refused.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        )}
        <div className="composer-bar">
          <details className="composer-options">
            <summary>Options</summary>
            <div className="composer-fields">
              <label>
                Temperature
                <input
                  type="number"
                  min={0}
                  max={2}
                  step={0.1}
                  value={temperature}
                  placeholder="default"
                  onChange={(event) => setTemperature(event.target.value)}
                />
              </label>
              <label>
                Max tokens
                <input
                  type="number"
                  min={1}
                  step={1}
                  value={maxTokens}
                  placeholder="default"
                  onChange={(event) => setMaxTokens(event.target.value)}
                />
              </label>
            </div>
          </details>
          <span id="chat-status" className="muted" role="status" aria-live="polite">
            {status}
          </span>
          <div className="composer-actions">
            <input
              ref={fileInput}
              id="chat-images"
              type="file"
              accept={ACCEPTED_TYPES.join(",")}
              multiple
              className="visually-hidden"
              tabIndex={-1}
              aria-label="Image files"
              onChange={(event) => {
                void attach([...(event.target.files ?? [])]);
                event.target.value = "";
              }}
            />
            <button
              type="button"
              onClick={() => fileInput.current?.click()}
              disabled={streaming || attachments.length >= MAX_IMAGES}
              title="For vision-language models: PNG, JPEG, WebP or GIF, up to 4 images of 5 MiB (or paste one)"
            >
              Attach images
            </button>
            <button type="button" onClick={regenerate} disabled={streaming || !lastUser}>
              Regenerate
            </button>
            {streaming ? (
              <button type="button" className="danger" onClick={() => controller.current?.abort()}>
                Stop
              </button>
            ) : (
              <button type="submit" className="primary" disabled={!draft.trim()}>
                Send
              </button>
            )}
          </div>
        </div>
      </form>
    </section>
  );
}
