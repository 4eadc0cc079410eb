/**
 * The Chat page in a real browser (headless Chromium, playwright-core) against a real studio with the
 * fake GPU tools and the vLLM emulator launched through the API: a chat created in the UI, a message
 * sent with Enter, the streamed answer, the title and token counts, fork and export, a 375 px layout.
 * Skipped, saying why, when Chromium or the built UI (npm run build) is missing.
 */
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { studioWithQwen } from "../studio/chat-helpers.js";
import { cleanUp, isInstanceEvent, openStudio, QWEN } from "../studio/lifecycle-helpers.js";
import { browserFor, missingFor, RESULTS } from "./browser.js";

const CALC_SERVER = new URL("../fixtures/mcp/calc-server.mjs", import.meta.url).pathname;
/** A 1x1 PNG (red), 70 bytes. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
  "base64",
);

const missing = missingFor("test/web/chat.test.ts");

const browser = browserFor(missing);

afterEach(cleanUp);

async function newPage(width = 1280, height = 900): Promise<Page> {
  const context = await browser().newContext({ viewport: { width, height }, colorScheme: "light" });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  return page;
}

describe.skipIf(missing !== null)("studio web UI: chat", () => {
  it("creates a chat, streams an answer with its title and tokens, forks and exports it", async () => {
    const s = await openStudio();
    const events = await s.events();
    const launched = await s.api("/api/instances", { body: { model: QWEN, timeoutSeconds: 60 } });
    expect(launched.status, JSON.stringify(launched.body)).toBe(202);
    const name = launched.body.name as string;
    await events.waitFor(isInstanceEvent(name, "ready"), 30_000, `${name} ready`);

    const page = await newPage();
    await page.goto(`${s.url}/chat`);
    await page.getByRole("heading", { level: 1, name: "Chat" }).waitFor();
    await page.getByText("No chats yet.").waitFor();
    await page.getByRole("button", { name: "New chat" }).click();
    await page.waitForURL(/\/chat\/[^/]+$/);
    const chatId = new URL(page.url()).pathname.split("/").at(-1) as string;
    await expect.poll(() => page.getByTestId("chat-title").textContent()).toBe("New chat");

    // the model picker lists the running model and picks it
    const picker = page.getByLabel("Model", { exact: true });
    await expect.poll(() => picker.inputValue(), { timeout: 10_000 }).not.toBe("");
    const model = await picker.inputValue();

    // Shift+Enter is a new line, Enter sends
    const input = page.getByLabel("Message", { exact: true });
    await input.fill("Hello there");
    await input.press("Shift+Enter");
    await input.pressSequentially("Write a sentence.");
    expect(await input.inputValue()).toBe("Hello there\nWrite a sentence.");
    await page.getByText("Options", { exact: true }).click();
    await page.getByLabel("Max tokens").fill("24");
    await input.press("Enter");

    // the user message and the streamed answer, stored with its tokens
    const answer = page.locator('.message[data-role="assistant"][data-message]').first();
    await answer.waitFor({ timeout: 30_000 });
    await expect
      .poll(async () => ((await answer.textContent()) ?? "").length, { timeout: 30_000 })
      .toBeGreaterThan(10);
    await page.locator('.message[data-role="user"][data-message]').first().waitFor();
    expect(await page.locator('.message[data-role="user"]').first().textContent()).toContain(
      "Write a sentence.",
    );
    await answer.getByTestId("message-tokens").waitFor({ timeout: 15_000 });
    expect(await answer.getByTestId("message-tokens").textContent()).toMatch(
      /\d+ prompt · \d+ completion tokens/,
    );

    // the chat got a title (asked of the model after the first exchange) and session tokens
    await expect
      .poll(() => page.getByTestId("chat-title").textContent(), { timeout: 20_000 })
      .not.toBe("New chat");
    await expect
      .poll(() => page.getByTestId("session-tokens").textContent(), { timeout: 20_000 })
      .toMatch(/[1-9]\d* request\(s\) · \d+ prompt \+ \d+ completion = [1-9]\d* tokens/);
    const stored = await s.api(`/api/chats/${chatId}`);
    expect(stored.body.model).toBe(model);
    expect(stored.body.messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
    const title = stored.body.title as string;
    await page.locator(`.chat-item[data-chat="${chatId}"]`).getByText(title).waitFor();
    await page.screenshot({ path: `${RESULTS}chat.png`, fullPage: true });

    // export: a Markdown download named after the id
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export Markdown" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`chat-${chatId}.md`);
    const path = await download.path();
    expect(readFileSync(path, "utf8")).toContain("Write a sentence.");
    const [json] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export JSON" }).click(),
    ]);
    expect(json.suggestedFilename()).toBe(`chat-${chatId}.json`);

    // fork at the user message: a new chat with that message only
    await page.getByRole("button", { name: "Fork the chat at message 1" }).click();
    await page.waitForURL((url) => !url.pathname.endsWith(chatId));
    const forkId = new URL(page.url()).pathname.split("/").at(-1) as string;
    await expect.poll(() => page.getByTestId("chat-title").textContent()).toContain("(fork)");
    await expect.poll(() => page.locator(".message[data-message]").count()).toBe(1);
    const fork = await s.api(`/api/chats/${forkId}`);
    expect(fork.body.forkedFromSessionId).toBe(chatId);

    // regenerate answers the fork's last user turn
    await page.getByRole("button", { name: "Regenerate" }).click();
    await page.locator('.message[data-role="assistant"][data-message]').first().waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator(".message[data-message]").count(), { timeout: 30_000 }).toBe(2);

    // rename and delete (with a confirmation) from the side
    const row = page.locator(`.chat-item[data-chat="${forkId}"]`);
    await row.getByRole("button", { name: /^Rename / }).click();
    await row.getByRole("textbox").fill("Forked chat");
    await row.getByRole("button", { name: "Save" }).click();
    await expect.poll(async () => (await s.api(`/api/chats/${forkId}`)).body.title).toBe("Forked chat");
    await row.getByRole("button", { name: /^Delete / }).click();
    await row.getByText("Delete this chat?").waitFor();
    await row.getByRole("button", { name: "Delete", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/chat");
    expect((await s.api(`/api/chats/${forkId}`)).status).toBe(404);

    // 375 px: no horizontal scrolling
    const mobile = await newPage(375, 800);
    await mobile.goto(`${s.url}/chat/${chatId}`);
    await mobile.locator('.message[data-role="assistant"]').first().waitFor();
    expect(await mobile.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    await mobile.screenshot({ path: `${RESULTS}chat-375px.png`, fullPage: true });
    await mobile.context().close();
    await page.context().close();
  }, 120_000);

  it("shows images, reasoning and highlighted code, runs MCP tool calls on approval, and stops a turn", async () => {
    // the emulator as a vision-language reasoning model served without a reasoning parser, pacing its
    // tokens so that a turn can be stopped midway
    const filler = Array.from({ length: 120 }, (_, i) => `word${i}`).join(" ");
    const s = await studioWithQwen({
      EMULATOR_MULTIMODAL: "1",
      EMULATOR_TOKEN_DELAY_MS: "15",
      EMULATOR_REPLY: `<think>The user shows a picture. I describe it.</think>Here is code:\n\n\`\`\`python\nprint(2 + 3)\n\`\`\`\n\n${filler}`,
    });
    const errors: string[] = [];
    const page = await newPage();
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${s.url}/chat`);
    await page.getByRole("button", { name: "New chat" }).click();
    await page.waitForURL(/\/chat\/[^/]+$/);
    const chatId = new URL(page.url()).pathname.split("/").at(-1) as string;
    const picker = page.getByLabel("Model", { exact: true });
    await expect.poll(() => picker.inputValue(), { timeout: 10_000 }).not.toBe("");

    // attach: a PDF is refused by name, the PNG is previewed and can be removed and added again
    const files = page.getByLabel("Image files");
    await files.setInputFiles([
      { name: "notes.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.7") },
      { name: "red.png", mimeType: "image/png", buffer: PNG },
    ]);
    await page.getByText("notes.pdf: application/pdf is not PNG, JPEG, WebP or GIF").waitFor();
    const attached = page.getByRole("list", { name: "Attached images" });
    await attached.getByRole("img", { name: /^red\.png \(PNG, 70 B\)$/ }).waitFor();
    await page.getByRole("button", { name: "Remove red.png" }).click();
    await attached.waitFor({ state: "detached" });
    await files.setInputFiles([{ name: "red.png", mimeType: "image/png", buffer: PNG }]);
    await attached.waitFor();

    const input = page.getByLabel("Message", { exact: true });
    await input.fill("What is in this picture?");
    await input.press("Enter");
    await expect.poll(() => attached.count()).toBe(0);
    const answer = page.locator('.message[data-role="assistant"][data-message]').first();
    await answer.waitFor({ timeout: 30_000 });
    // the turn goes on with the title request: wait for its end
    await expect.poll(() => page.locator("#chat-status").textContent(), { timeout: 30_000 }).toMatch(/^Done/);
    // the stored user message shows its image, fetched from the studio
    const user = page.locator('.message[data-role="user"][data-message]').first();
    await user.getByRole("img", { name: "Image 1 (PNG, 70 B)" }).waitFor();
    const stored = await s.api(`/api/chats/${chatId}`);
    expect(stored.body.messages[0].images).toHaveLength(1);
    // the model saw it; its reasoning is folded away, its code highlighted
    expect(await answer.textContent()).toContain("I see 1 image(s).");
    const reasoning = answer.locator("details.reasoning");
    expect(await reasoning.getAttribute("open")).toBeNull();
    await reasoning.locator("summary").click();
    await reasoning.getByText("The user shows a picture. I describe it.").waitFor();
    expect(await answer.locator("pre code.hljs .hljs-built_in, pre code.hljs span").count()).toBeGreaterThan(
      0,
    );
    expect(stored.body.messages[1].reasoningContent).toBe("The user shows a picture. I describe it.");
    await page.screenshot({ path: `${RESULTS}chat-image-reasoning.png`, fullPage: true });

    // MCP tools: the calc server asks for approval; approved, the result comes back and is answered
    const created = await s.api("/api/mcp/servers", {
      body: {
        name: "calc",
        transport: "stdio",
        command: [process.execPath, CALC_SERVER],
        approval: "always",
      },
    });
    expect(created.status).toBe(201);
    await input.fill("Add 2 and 3.");
    await input.press("Enter");
    const approve = page.getByRole("button", { name: "Approve calc__add" });
    await approve.waitFor({ timeout: 30_000 });
    const card = page.locator(".tool-card").last();
    expect(await card.locator(".badge").textContent()).toBe("waiting for approval");
    await approve.click();
    await expect.poll(() => card.locator(".badge").textContent(), { timeout: 30_000 }).toBe("done");
    await card.getByText("Result").click();
    expect(await card.locator("pre.tool-args").last().textContent()).toContain("5");
    await expect.poll(() => page.locator("#chat-status").textContent(), { timeout: 30_000 }).toMatch(/^Done/);
    await page.screenshot({ path: `${RESULTS}chat-tool-call.png`, fullPage: true });
    // denied: the tool does not run and the model is told so
    await input.fill("Add them again.");
    await input.press("Enter");
    const deny = page.getByRole("button", { name: "Deny calc__add" });
    await deny.waitFor({ timeout: 30_000 });
    await deny.click();
    await expect
      .poll(
        async () => {
          const chat = await s.api(`/api/chats/${chatId}`);
          return chat.body.messages.some(
            (m: { role: string; content: string }) => m.role === "tool" && m.content.includes("denied"),
          );
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    await expect.poll(() => page.locator("#chat-status").textContent(), { timeout: 30_000 }).toMatch(/^Done/);
    expect((await s.api(`/api/mcp/servers/${created.body.id}`, { method: "DELETE" })).status).toBe(200);

    // Stop: the turn ends midway, nothing half-written is stored
    const before = (await s.api(`/api/chats/${chatId}`)).body.messages.length as number;
    await input.fill("Tell me more.");
    await input.press("Enter");
    const streaming = page.locator(".message.streaming");
    await expect
      .poll(async () => Number(await streaming.getAttribute("data-chars")), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await page.getByRole("button", { name: "Stop" }).click();
    await expect.poll(() => page.locator("#chat-status").textContent()).toBe("Stopped");
    await page.getByRole("button", { name: "Send" }).waitFor();
    const after = (await s.api(`/api/chats/${chatId}`)).body.messages as Array<{ role: string }>;
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)?.role).toBe("user");
    expect(errors).toEqual([]);
    await page.context().close();
  }, 150_000);
});
