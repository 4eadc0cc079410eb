/** A chat as a file: Markdown for reading, JSON (session and messages) for keeping. */
import { type DecodedImage, imageDataUrl } from "./images.js";
import type { ChatMessage, ChatSession } from "./store.js";

const HEADINGS: Record<ChatMessage["role"], string> = {
  system: "System",
  user: "User",
  assistant: "Assistant",
  tool: "Tool",
};

/** A fence longer than any backtick run in the text, so that code in messages cannot end it. */
function fence(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return "`".repeat(Math.max(3, longest + 1));
}

function block(text: string, info = ""): string {
  const f = fence(text);
  return `${f}${info}\n${text}\n${f}`;
}

/** Markdown with the images inline as data: URLs, so the file stands alone. */
export function exportMarkdown(
  session: ChatSession,
  messages: ChatMessage[],
  images: Map<string, DecodedImage> = new Map(),
): string {
  const lines: string[] = [`# ${session.title.replace(/\s+/g, " ")}`, ""];
  lines.push(`- Chat: ${session.id}`);
  if (session.model) lines.push(`- Model: ${session.model}`);
  lines.push(`- Created: ${session.createdAt}`);
  if (session.forkedFromSessionId) {
    lines.push(`- Forked from: ${session.forkedFromSessionId} (message ${session.forkedFromMessageId})`);
  }
  lines.push("");
  for (const message of messages) {
    const heading =
      message.role === "tool" && message.toolCallId
        ? `${HEADINGS.tool} (${message.toolCallId})`
        : HEADINGS[message.role];
    lines.push(`## ${heading}`, "");
    if (message.reasoningContent) {
      lines.push("<details><summary>Reasoning</summary>", "", message.reasoningContent, "", "</details>", "");
    }
    if (message.content) lines.push(message.role === "tool" ? block(message.content) : message.content, "");
    for (const [index, image] of message.images.entries()) {
      const data = images.get(image.id);
      if (data) lines.push(`![image ${index + 1}](${imageDataUrl(data)})`, "");
    }
    for (const call of message.toolCalls ?? []) {
      lines.push(
        `Tool call \`${call.function.name}\` (${call.id}):`,
        "",
        block(call.function.arguments, "json"),
        "",
      );
    }
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/** JSON of the session and its messages; each image carries its bytes as base64 (`data`). */
export function exportJson(
  session: ChatSession,
  messages: ChatMessage[],
  images: Map<string, DecodedImage> = new Map(),
) {
  return {
    format: "servepilot-chat",
    version: 1,
    session,
    messages: messages.map((message) => ({
      ...message,
      images: message.images.map((image) => ({
        ...image,
        data: images.get(image.id)?.data.toString("base64") ?? null,
      })),
    })),
  };
}
