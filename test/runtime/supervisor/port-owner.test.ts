/**
 * Port ownership from /proc: the launcher counts an engine ready only when its own process group
 * listens on the port (another server answering there must not count).
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { groupListensOn, listeningInodes } from "../../../src/runtime/supervisor/port-owner.js";
import { readProcessIdentity } from "../../../src/runtime/supervisor/process-identity.js";

// /proc/net/tcp as Linux prints it (header + a LISTEN socket on 127.0.0.1:8000 and an established one)
const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123456 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F40 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 123999 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F41 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0
`;

describe("port ownership", () => {
  it("reads the inodes of listening sockets on a port", () => {
    expect(listeningInodes(TABLE, 8000)).toEqual(["123456"]);
    expect(listeningInodes(TABLE, 8001)).toEqual(["777"]);
    expect(listeningInodes(TABLE, 8002)).toEqual([]);
    expect(listeningInodes("", 8000)).toEqual([]);
  });

  it("tells the group that listens from one that does not", async () => {
    const server = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const own = await readProcessIdentity(process.pid);
    const other = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
    try {
      expect(await groupListensOn(own?.pgid as number, port)).toBe(true);
      expect(await groupListensOn(other.pid as number, port)).toBe(false);
    } finally {
      other.kill("SIGKILL");
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await groupListensOn(own?.pgid as number, port)).toBe(false);
  });
});
