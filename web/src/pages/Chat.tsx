/**
 * `/chat` and `/chat/:id`: the chats on the side (new, rename, delete), one chat in the middle
 * (chat/Conversation.tsx). Talks to /api/chats and the gateway's /v1/models.
 */
import "./Chat.css";
import { useCallback, useEffect, useRef, useState } from "react";
import { Route, Switch, useLocation, useRoute } from "wouter";
import { api } from "../api";
import { ErrorBox } from "../components/ErrorBox";
import { useEvents } from "../events";
import { Conversation } from "./chat/Conversation";
import { Sidebar } from "./chat/Sidebar";
import type { ChatWithMessages, SessionSummary } from "./chat/types";

export default function Chat() {
  const [, navigate] = useLocation();
  const [, params] = useRoute<{ id: string }>("/:id");
  const currentId = params?.id ?? null;
  const [chats, setChats] = useState<SessionSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [createError, setCreateError] = useState<unknown>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const load = useCallback(() => {
    api<{ chats: SessionSummary[] }>("/api/chats")
      .then((body) => {
        setChats(body.chats);
        setError(null);
      })
      .catch(setError);
  }, []);
  const scheduleLoad = useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(load, 250);
  }, [load]);

  useEffect(() => {
    load();
    return () => {
      if (timer.current) clearTimeout(timer.current);
    };
  }, [load]);
  useEvents(["chat"], scheduleLoad);

  const create = async () => {
    setCreateError(null);
    try {
      const chat = await api<ChatWithMessages>("/api/chats", { body: {} });
      load();
      navigate(`/${chat.id}`);
    } catch (e) {
      setCreateError(e);
    }
  };

  return (
    <div className="page chat-page">
      <div className="page-head">
        <h1>Chat</h1>
      </div>
      <ErrorBox error={createError} />
      <div className="chat-layout">
        <Sidebar
          chats={chats}
          currentId={currentId}
          error={error}
          onNew={create}
          onChanged={load}
          onDeleted={(id) => {
            load();
            if (id === currentId) navigate("~/chat");
          }}
        />
        <Switch>
          <Route path="/:id">
            {(route) => <Conversation key={route.id} id={route.id} onListChanged={scheduleLoad} />}
          </Route>
          <Route>
            <section className="chat-main chat-empty">
              <p>Pick a chat on the side, or start a new one.</p>
              <button type="button" className="primary" onClick={create}>
                Start a chat
              </button>
            </section>
          </Route>
        </Switch>
      </div>
    </div>
  );
}
