/**
 * Images in chats and reasoning in chats, end to end: a real studio, the vLLM emulator as a
 * vision-language model (EMULATOR_MULTIMODAL=1: it takes image_url data: URLs and says how many it
 * saw) or as a text-only one (it refuses images with vLLM's 400), and as a reasoning model served
 * without a reasoning parser (EMULATOR_REPLY with <think>…</think>, split by the gateway for chats).
 */
import { afterEach, describe, expect, it } from "vitest";
import { toOpenAiMessages } from "../../src/studio/chats/complete.js";
import { MAX_IMAGE_BYTES, MAX_IMAGES_PER_MESSAGE, sniffImageType } from "../../src/studio/chats/images.js";
import type { ChatMessage } from "../../src/studio/chats/store.js";
import { complete, named, studioWithQwen } from "./chat-helpers.js";
import { cleanUp } from "./lifecycle-helpers.js";

afterEach(cleanUp);

/** A 1x1 PNG (red), as any encoder writes it. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
  "base64",
);
/** The smallest GIF (a 1x1 transparent pixel). */
const GIF = Buffer.from("R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==", "base64");

describe("chat images", () => {
  it("stores images with a user message, serves them, sends them to a VL model, forks and exports them", async () => {
    const s = await studioWithQwen({ EMULATOR_MULTIMODAL: "1" });
    const chat = (await s.api("/api/chats", { body: { model: "qwen3-8b" } })).body;

    const { status, events } = await complete(s, chat.id, {
      content: "What is in these pictures?",
      images: [
        { mediaType: "image/png", data: PNG.toString("base64") },
        { mediaType: "image/gif", data: GIF.toString("base64") },
      ],
      tools: false,
    });
    expect(status).toBe(200);
    expect(named(events, "error")).toEqual([]);
    const stored = await s.api(`/api/chats/${chat.id}`);
    const [user, assistant] = stored.body.messages;
    expect(user.images.map((i: { mediaType: string; bytes: number }) => [i.mediaType, i.bytes])).toEqual([
      ["image/png", PNG.length],
      ["image/gif", GIF.length],
    ]);
    // the model got both images (the emulator says how many it saw) and counted them as prompt tokens
    expect(assistant.content).toMatch(/^I see 2 image\(s\)\./);
    const usage = named(events, "usage")[0];
    expect(usage.promptTokens).toBeGreaterThanOrEqual(2 * 64);

    // the bytes come back as they were sent, with their media type
    const png = await fetch(`${s.url}/api/chats/${chat.id}/images/${user.images[0].id}`);
    expect(png.status).toBe(200);
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await png.arrayBuffer()).equals(PNG)).toBe(true);
    expect((await s.api(`/api/chats/${chat.id}/images/nope`)).status).toBe(404);

    // a fork keeps the images (new ids, same bytes); deleting the original leaves the fork's
    const fork = await s.api(`/api/chats/${chat.id}/fork`, { body: { messageId: user.id } });
    expect(fork.status).toBe(201);
    const forkImage = fork.body.messages[0].images[1];
    expect(forkImage.id).not.toBe(user.images[1].id);
    expect((await s.api(`/api/chats/${chat.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await s.api(`/api/chats/${chat.id}/images/${user.images[0].id}`)).status).toBe(404);
    const gif = await fetch(`${s.url}/api/chats/${fork.body.id}/images/${forkImage.id}`);
    expect(Buffer.from(await gif.arrayBuffer()).equals(GIF)).toBe(true);

    // the exports carry the images: Markdown inline as data: URLs, JSON as base64
    const markdown = await (await fetch(`${s.url}/api/chats/${fork.body.id}/export`)).text();
    expect(markdown).toContain(`![image 1](data:image/png;base64,${PNG.toString("base64")})`);
    const json = (await (await fetch(`${s.url}/api/chats/${fork.body.id}/export?format=json`)).json()) as {
      messages: Array<{ images: unknown[] }>;
    };
    expect(json.messages[0]?.images[1]).toMatchObject({
      mediaType: "image/gif",
      data: GIF.toString("base64"),
    });
  }, 90_000);

  it("refuses images that are not what they say, too many, on other roles, and a text-only model's refusal reaches the chat", async () => {
    const s = await studioWithQwen();
    const chat = (await s.api("/api/chats", { body: { model: "qwen3-8b" } })).body;
    const append = (body: Record<string, unknown>) =>
      s.api(`/api/chats/${chat.id}/messages`, { body: { role: "user", content: "look", ...body } });

    const lying = await append({ images: [{ mediaType: "image/jpeg", data: PNG.toString("base64") }] });
    expect(lying.status).toBe(400);
    expect(lying.body.error.message).toContain("body.images.0: the data is image/png, not image/jpeg");
    const notAnImage = await append({
      images: [{ mediaType: "image/png", data: Buffer.from("hello world").toString("base64") }],
    });
    expect(notAnImage.status).toBe(400);
    expect(notAnImage.body.error.message).toContain("not a PNG, JPEG, WebP or GIF image");
    const tooMany = await append({
      images: Array.from({ length: 5 }, () => ({ mediaType: "image/png", data: PNG.toString("base64") })),
    });
    expect(tooMany.status).toBe(400);
    const notBase64 = await append({
      images: [{ mediaType: "image/png", data: "data:image/png;base64,AAAA" }],
    });
    expect(notBase64.status).toBe(400);
    const assistant = await s.api(`/api/chats/${chat.id}/messages`, {
      body: {
        role: "assistant",
        content: "x",
        images: [{ mediaType: "image/png", data: PNG.toString("base64") }],
      },
    });
    expect(assistant.status).toBe(400);
    expect(JSON.stringify(assistant.body)).toContain("only user messages carry images");
    // nothing was stored by the refused requests
    expect((await s.api(`/api/chats/${chat.id}`)).body.messages).toEqual([]);

    // a text-only model refuses the image: the chat gets the engine's words as an error event
    const { events } = await complete(s, chat.id, {
      content: "What is this?",
      images: [{ mediaType: "image/png", data: PNG.toString("base64") }],
      tools: false,
    });
    const [error] = named(events, "error");
    expect(error.message).toContain("is not a multimodal model");
    // images without a message are refused before anything is stored
    const alone = await complete(s, chat.id, {
      images: [{ mediaType: "image/png", data: PNG.toString("base64") }],
    });
    expect(alone.status).toBe(400);
  }, 90_000);

  it("a chat whose images exceed one request's limit sends the newest and says which were left out", async () => {
    const s = await studioWithQwen({ EMULATOR_MULTIMODAL: "1" });
    const chat = (await s.api("/api/chats", { body: { model: "qwen3-8b" } })).body;
    // four images at the largest size a message takes: a PNG signature and filler bytes
    const big = Buffer.concat([PNG, Buffer.alloc(MAX_IMAGE_BYTES - PNG.length, 7)]).toString("base64");
    const four = Array.from({ length: MAX_IMAGES_PER_MESSAGE }, () => ({
      mediaType: "image/png",
      data: big,
    }));
    for (const turn of ["first", "second"]) {
      const { status, events } = await complete(s, chat.id, {
        content: `the ${turn} set`,
        images: four,
        tools: false,
      });
      expect(status).toBe(200);
      // the second turn's history holds 8 images (about 53 MiB as data: URLs), over the gateway's
      // 32 MiB body limit: the newest 4 are sent, the first turn's are named as left out
      expect(named(events, "error")).toEqual([]);
      const reply = named(events, "delta")
        .map((e) => e.content)
        .join("");
      expect(reply).toMatch(/^I see 4 image\(s\)\./);
      const usage = named(events, "usage")[0];
      expect(usage.promptTokens).toBeGreaterThanOrEqual(4 * 64);
      expect(usage.promptTokens).toBeLessThan(8 * 64);
    }
    // nothing is lost: all eight stay stored with the chat
    const stored = await s.api(`/api/chats/${chat.id}`);
    expect(stored.body.messages.flatMap((m: { images: unknown[] }) => m.images)).toHaveLength(8);
  }, 120_000);

  it("a history over the gateway's body limit is refused with its size, not as a dropped connection", async () => {
    const s = await studioWithQwen();
    const chat = (await s.api("/api/chats", { body: { model: "qwen3-8b" } })).body;
    // 35 messages of 1,000,000 characters: 33.4 MiB of history, over the 32 MiB a request carries
    for (let i = 0; i < 35; i += 1) {
      const added = await s.api(`/api/chats/${chat.id}/messages`, {
        body: { role: i % 2 === 0 ? "user" : "assistant", content: "x".repeat(1_000_000) },
      });
      expect(added.status).toBe(201);
    }
    const { status, events } = await complete(s, chat.id, { content: "and now?", tools: false });
    expect(status).toBe(200);
    const [error] = named(events, "error");
    expect(error).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(error.message).toMatch(
      /^the chat's history is 33\.\d MiB, over the 32\.0 MiB a request to the gateway carries; fork/,
    );
  }, 120_000);

  it("puts a reasoning model's <think> block into the message's reasoning, not its content", async () => {
    const s = await studioWithQwen({
      EMULATOR_REPLY: "<think>The user greets me. I greet back.</think>Hello, how can I help?",
    });
    const chat = (await s.api("/api/chats", { body: { model: "qwen3-8b" } })).body;
    const { events } = await complete(s, chat.id, { content: "Hi", tools: false });
    expect(
      named(events, "reasoning")
        .map((e) => e.content)
        .join(""),
    ).toBe("The user greets me. I greet back.");
    expect(
      named(events, "delta")
        .map((e) => e.content)
        .join(""),
    ).toBe("Hello, how can I help?");
    const stored = await s.api(`/api/chats/${chat.id}`);
    expect(stored.body.messages[1]).toMatchObject({
      content: "Hello, how can I help?",
      reasoningContent: "The user greets me. I greet back.",
    });
  }, 90_000);
});

describe("images in the request to the model", () => {
  const message = (seq: number, imageIds: string[]): ChatMessage => ({
    id: `m${seq}`,
    sessionId: "s",
    seq,
    role: "user",
    content: `turn ${seq}`,
    reasoningContent: null,
    toolCalls: null,
    toolCallId: null,
    requestId: null,
    images: imageIds.map((id) => ({ id, mediaType: "image/png", bytes: PNG.length })),
    createdAt: "2026-01-01T00:00:00.000Z",
  });
  const data = new Map(["a", "b", "c"].map((id) => [id, { mediaType: "image/png" as const, data: PNG }]));
  const oneUrl = `data:image/png;base64,${PNG.toString("base64")}`.length;

  it("sends the newest images within the budget and names the older ones left out, in their message", () => {
    const sent = toOpenAiMessages([message(1, ["a", "b"]), message(2, ["c"])], data, 2 * oneUrl);
    const parts = sent.map((m) => m.content as Array<{ type: string; text?: string }>);
    expect(parts[1]?.map((p) => p.type)).toEqual(["text", "image_url"]);
    // of the first message only "b" fits: the budget is counted newest first, image by image
    expect(parts[0]?.map((p) => p.type)).toEqual(["text", "image_url", "text"]);
    expect(parts[0]?.[2]?.text).toMatch(/^\[1 earlier image not sent: the chat's images exceed/);
    // within the budget, all of them
    const all = toOpenAiMessages([message(1, ["a", "b"]), message(2, ["c"])], data, 3 * oneUrl);
    expect(all.flatMap((m) => m.content as unknown[])).toHaveLength(5);
  });
});

describe("image signatures", () => {
  it("recognises the four accepted formats and nothing else", () => {
    expect(sniffImageType(PNG)).toBe("image/png");
    expect(sniffImageType(GIF)).toBe("image/gif");
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]))).toBe("image/jpeg");
    expect(sniffImageType(Buffer.from("RIFF\x10\x00\x00\x00WEBPVP8 ", "latin1"))).toBe("image/webp");
    expect(sniffImageType(Buffer.from("RIFF\x10\x00\x00\x00WAVEfmt ", "latin1"))).toBeNull();
    expect(sniffImageType(Buffer.from("%PDF-1.7"))).toBeNull();
    expect(sniffImageType(Buffer.alloc(0))).toBeNull();
  });
});
