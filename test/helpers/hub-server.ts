/**
 * A loopback Hugging Face Hub: a real HTTP server on 127.0.0.1 speaking the parts of the Hub API
 * that @huggingface/hub 2.17 and @huggingface/gguf 0.4 request (read from their dist/ sources):
 *
 * - GET  /api/models/{repo}[/revision/{rev}]   modelInfo (id, _id, sha, gated, siblings...)
 * - GET  /api/models/{repo}/tree/{rev}[/{dir}] listFiles (?recursive=true|false)
 * - GET|HEAD /{repo}/resolve/{rev}/{path}      downloadFile / fileDownloadInfo / WebBlob / gguf,
 *        /{repo}/raw/{rev}/{path}              fileExists; with Range (206 + Content-Range), ETag,
 *                                              X-Repo-Commit
 *
 * Errors carry the Hub's X-Error-Code / X-Error-Message headers and a JSON { error } body:
 * 401 RepoNotFound for an unknown repo without a token (404 with one), 401 GatedRepo for a gated
 * repo's files without a token, 403 GatedRepo with a token that has no access, 404
 * RevisionNotFound / EntryNotFound. `setHang(true)` makes every request wait forever.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface HubFixtureRepo {
  /** "owner/name". */
  id: string;
  /** Files by repo path; strings are UTF-8. */
  files: Record<string, string | Uint8Array>;
  /** Commit of the main branch (default: a hash of the id). */
  sha?: string;
  /** Other refs -> commit. Every ref serves the same files. */
  refs?: Record<string, string>;
  /** Files need `Authorization: Bearer <token>` (model info and the file list stay public, as on the Hub). */
  gated?: { token: string };
}

export interface RecordedRequest {
  method: string;
  path: string;
  range: string | null;
  authorization: string | null;
}

export interface HubServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (what HF_ENDPOINT would hold). */
  url: string;
  requests: RecordedRequest[];
  setHang(hang: boolean): void;
  close(): Promise<void>;
}

function sha1(text: string | Uint8Array): string {
  return createHash("sha1").update(text).digest("hex");
}

function bytesOf(content: string | Uint8Array): Uint8Array {
  return typeof content === "string" ? new TextEncoder().encode(content) : content;
}

function sendError(res: ServerResponse, status: number, code: string, message: string, head: boolean): void {
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "X-Error-Code": code,
    "X-Error-Message": message,
  });
  res.end(head ? undefined : JSON.stringify({ error: message }));
}

function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

class LoopbackHub {
  private readonly repos = new Map<string, HubFixtureRepo & { sha: string }>();

  constructor(repos: readonly HubFixtureRepo[]) {
    for (const repo of repos) this.repos.set(repo.id, { ...repo, sha: repo.sha ?? sha1(repo.id) });
  }

  private commitOf(repo: HubFixtureRepo & { sha: string }, rev: string): string | null {
    if (rev === "main" || rev === "HEAD" || rev === repo.sha) return repo.sha;
    return repo.refs?.[rev] ?? (Object.values(repo.refs ?? {}).includes(rev) ? rev : null);
  }

  /** Looks the repo up; answers the error itself and returns null when it does not exist. */
  private findRepo(id: string, req: IncomingMessage, res: ServerResponse) {
    const repo = this.repos.get(id);
    if (!repo) {
      const authed = Boolean(req.headers.authorization);
      sendError(res, authed ? 404 : 401, "RepoNotFound", "Repository not found", req.method === "HEAD");
      return null;
    }
    return repo;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const head = req.method === "HEAD";
    if (segments[0] === "api" && segments[1] === "models" && segments.length >= 4) {
      const repo = this.findRepo(`${segments[2]}/${segments[3]}`, req, res);
      if (!repo) return;
      const [kind, rev, ...rest] = segments.slice(4);
      const commit = this.commitOf(repo, rev ?? "main");
      if (commit === null) {
        sendError(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`, head);
        return;
      }
      if (kind === "tree") {
        this.sendTree(res, repo, rest.join("/"), url.searchParams.get("recursive") === "true");
        return;
      }
      if (kind === undefined || kind === "revision") {
        this.sendInfo(res, repo, commit);
        return;
      }
      sendError(res, 404, "NotFound", "Not found", head);
      return;
    }
    if (segments.length >= 5 && (segments[2] === "resolve" || segments[2] === "raw")) {
      const repo = this.findRepo(`${segments[0]}/${segments[1]}`, req, res);
      if (!repo) return;
      const commit = this.commitOf(repo, segments[3] as string);
      if (commit === null) {
        sendError(res, 404, "RevisionNotFound", `Invalid rev id: ${segments[3]}`, head);
        return;
      }
      this.sendFile(req, res, repo, commit, segments.slice(4).join("/"));
      return;
    }
    sendError(res, 404, "NotFound", "Not found", head);
  }

  private sendInfo(res: ServerResponse, repo: HubFixtureRepo & { sha: string }, commit: string): void {
    sendJson(res, {
      _id: sha1(`id:${repo.id}`).slice(0, 24),
      id: repo.id,
      modelId: repo.id,
      sha: commit,
      private: false,
      gated: repo.gated ? "manual" : false,
      disabled: false,
      downloads: 0,
      likes: 0,
      pipeline_tag: "text-generation",
      lastModified: "2025-01-01T00:00:00.000Z",
      siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
    });
  }

  private sendTree(res: ServerResponse, repo: HubFixtureRepo, dir: string, recursive: boolean): void {
    const prefix = dir ? `${dir}/` : "";
    const entries: unknown[] = [];
    const dirs = new Set<string>();
    for (const [path, content] of Object.entries(repo.files)) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      if (!recursive && rest.includes("/")) {
        dirs.add(prefix + rest.slice(0, rest.indexOf("/")));
        continue;
      }
      const bytes = bytesOf(content);
      const lfs = /\.(safetensors|gguf)$/.test(path)
        ? { oid: sha1(bytes), size: bytes.byteLength, pointerSize: 134 }
        : undefined;
      entries.push({ type: "file", oid: sha1(bytes), size: bytes.byteLength, path, ...(lfs ? { lfs } : {}) });
    }
    for (const path of dirs) entries.push({ type: "directory", oid: sha1(path), size: 0, path });
    sendJson(res, entries);
  }

  private sendFile(
    req: IncomingMessage,
    res: ServerResponse,
    repo: HubFixtureRepo & { sha: string },
    commit: string,
    path: string,
  ): void {
    const head = req.method === "HEAD";
    if (repo.gated && req.headers.authorization !== `Bearer ${repo.gated.token}`) {
      const message = req.headers.authorization
        ? `Access to model ${repo.id} is restricted and you are not in the authorized list. Visit https://huggingface.co/${repo.id} to ask for access.`
        : `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
      sendError(res, req.headers.authorization ? 403 : 401, "GatedRepo", message, head);
      return;
    }
    const content = repo.files[path];
    if (content === undefined) {
      sendError(res, 404, "EntryNotFound", `${path} does not exist on "${commit}"`, head);
      return;
    }
    const bytes = bytesOf(content);
    const headers: Record<string, string> = {
      "Content-Type": "application/octet-stream",
      "Accept-Ranges": "bytes",
      ETag: `"${sha1(bytes)}"`,
      "X-Repo-Commit": commit,
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (!range) {
      res.writeHead(200, { ...headers, "Content-Length": String(bytes.byteLength) });
      res.end(head ? undefined : bytes);
      return;
    }
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : bytes.byteLength - 1, bytes.byteLength - 1);
    if (start >= bytes.byteLength || start > end) {
      res.writeHead(416, { ...headers, "Content-Range": `bytes */${bytes.byteLength}` });
      res.end();
      return;
    }
    const slice = bytes.subarray(start, end + 1);
    res.writeHead(206, {
      ...headers,
      "Content-Length": String(slice.byteLength),
      "Content-Range": `bytes ${start}-${end}/${bytes.byteLength}`,
    });
    res.end(head ? undefined : slice);
  }
}

export async function startHubServer(repos: readonly HubFixtureRepo[]): Promise<HubServer> {
  const hub = new LoopbackHub(repos);
  const requests: RecordedRequest[] = [];
  let hang = false;
  const server = createServer((req, res) => {
    requests.push({
      method: req.method ?? "GET",
      path: req.url ?? "/",
      range: req.headers.range ?? null,
      authorization: req.headers.authorization ?? null,
    });
    if (hang) return; // never answer: the client's timeout must fire
    hub.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHang: (value) => {
      hang = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
