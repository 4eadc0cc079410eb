import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { type HubServer, startHubServer } from "../../helpers/hub-server.js";

const free = vi.hoisted(() => ({ bytes: 100 }));
vi.mock("../../../src/runtime/cache/disk-space.js", () => ({ readFreeBytes: async () => free.bytes }));

const { downloadToCache } = await import("../../../src/runtime/cache/download-to-cache.js");
const { readFreeBytes: realReadFreeBytes } = await vi.importActual<
  typeof import("../../../src/runtime/cache/disk-space.js")
>("../../../src/runtime/cache/disk-space.js");

describe("disk space check before downloading", () => {
  let hub: HubServer;
  beforeAll(async () => {
    hub = await startHubServer([
      { id: "acme/big", files: { "a.bin": "x".repeat(150), "b.txt": "y".repeat(40) } },
    ]);
  });
  afterAll(() => hub.close());

  it("refuses with CACHE_ERROR when the selected files exceed the free space, before fetching", async () => {
    const env = { HF_HOME: mkdtempSync(join(tmpdir(), "servepilot-hf-")), HF_ENDPOINT: hub.url };
    const error = await downloadToCache("acme/big", { env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServepilotError);
    expect((error as ServepilotError).code).toBe("CACHE_ERROR");
    expect((error as ServepilotError).details).toMatchObject({ neededBytes: 190, freeBytes: 100 });
    expect(hub.requests.some((r) => r.path.includes("/resolve/"))).toBe(false);
    // Selecting fewer files fits.
    const small = await downloadToCache("acme/big", { env, include: ["b.txt"] });
    expect(small.fetchedBytes).toBe(40);
  });

  it("reads free space at the nearest existing ancestor of a path not created yet", async () => {
    const dir = mkdtempSync(join(tmpdir(), "servepilot-free-"));
    const bytes = await realReadFreeBytes(join(dir, "not", "yet", "there"));
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBe(await realReadFreeBytes(dir));
  });
});
