import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDownloadFetch } from "../../../src/runtime/cache/download-fetch.js";

describe("createDownloadFetch", () => {
  const server = createServer((req, res) => {
    if (req.url === "/hang") return; // never answers
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.write("head ");
    setTimeout(() => res.end("tail"), 1500); // the body outlives the headers' deadline
  });
  let base = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it("aborts when the headers do not arrive in time", async () => {
    const error = await createDownloadFetch(fetch, 100)(`${base}/hang`).catch((e: unknown) => e);
    expect((error as { name?: string }).name).toBe("TimeoutError");
  });

  it("lets a body take longer than the deadline once the headers arrived", async () => {
    // a generous header deadline (loaded CI machines), still shorter than the body's 1.5 s
    const response = await createDownloadFetch(fetch, 1000)(`${base}/slow`);
    expect(await response.text()).toBe("head tail");
  });
});
