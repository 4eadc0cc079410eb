/** The pages still to come: each says what it will hold. */
import { Link } from "wouter";

const PAGES: Record<string, { title: string; text: string }> = {
  recipes: {
    title: "Recipes",
    text: "Browse the built-in, file and studio recipes, edit and validate them, import and export YAML, and launch one.",
  },
  chat: {
    title: "Chat",
    text: "Chat with the running models through the gateway: conversations, streaming answers, reasoning, MCP tools.",
  },
  usage: {
    title: "Usage",
    text: "Requests, tokens, latency and TTFT percentiles per model and key, by day and hour, and GPU energy per token.",
  },
  models: {
    title: "Models",
    text: "The model catalog, models in the Hugging Face cache and local directories, and downloads from the Hub.",
  },
  logs: {
    title: "Logs",
    text: "Engine log files by instance, with a live tail and search.",
  },
  settings: {
    title: "Settings",
    text: "The studio's configuration, gateway API keys and MCP servers.",
  },
};

export default function Placeholder({ page }: { page: string }) {
  const entry = PAGES[page];
  if (!entry) {
    return (
      <section>
        <h1>Page not found</h1>
        <p>
          Nothing here. Go to the <Link href="/">dashboard</Link>.
        </p>
      </section>
    );
  }
  return (
    <section>
      <h1>{entry.title}</h1>
      <p>{entry.text}</p>
      <p className="muted">This page is coming in a later release of the studio UI.</p>
    </section>
  );
}
