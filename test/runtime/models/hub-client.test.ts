import { describe, expect, it } from "vitest";
import { createHubClient, HubHttpError } from "../../../src/runtime/models/hub-client.js";
import { classifyHubError, type HubErrorContext } from "../../../src/runtime/models/hub-errors.js";

const HUB = "https://hub.example";

/** A fetch that records what it was asked and answers from a table of canned responses. */
function recordingFetch(answer: (url: string) => Response) {
  const seen: Array<{ url: string; authorization: string | null; aborted: boolean }> = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = String(input);
    const headers = new Headers(init?.headers);
    seen.push({ url, authorization: headers.get("authorization"), aborted: init?.signal?.aborted ?? false });
    return answer(url);
  };
  return { seen, fetchImpl };
}

describe("createHubClient", () => {
  it("sends the token to the Hub's origin only and never replaces an Authorization header", async () => {
    const { seen, fetchImpl } = recordingFetch(() => new Response("ok"));
    const client = createHubClient({
      hubUrl: HUB,
      token: "tok",
      timeoutMs: 1000,
      baseFetch: fetchImpl,
      signal: undefined,
    });
    await client.fetch(`${HUB}/api/models/a/b`);
    await client.fetch("https://cdn.example/blob");
    await client.fetch(`${HUB}/x`, { headers: { Authorization: "Bearer other" } });
    expect(seen.map((s) => s.authorization)).toEqual(["Bearer tok", null, "Bearer other"]);
  });

  it("remembers the served commit and the Hub's error headers", async () => {
    const { fetchImpl } = recordingFetch((url) =>
      url.endsWith("ok")
        ? new Response("x", { headers: { "X-Repo-Commit": "abc" } })
        : new Response("{}", {
            status: 401,
            headers: { "X-Error-Code": "GatedRepo", "X-Error-Message": "restricted" },
          }),
    );
    const client = createHubClient({
      hubUrl: HUB,
      token: null,
      timeoutMs: 1000,
      baseFetch: fetchImpl,
      signal: undefined,
    });
    await client.fetch(`${HUB}/ok`);
    expect(client.servedCommit()).toBe("abc");
    const response = await client.fetch(`${HUB}/gated`);
    expect(response.status).toBe(401);
    expect(client.errorFor(`${HUB}/gated`)).toEqual({
      status: 401,
      errorCode: "GatedRepo",
      serverMessage: "restricted",
    });
    await expect(client.strictFetch(`${HUB}/gated`)).rejects.toMatchObject({
      name: "HubHttpError",
      status: 401,
      errorCode: "GatedRepo",
      serverMessage: "restricted",
    });
  });
});

describe("classifyHubError", () => {
  const context = (tokenSet: boolean): HubErrorContext => ({
    repo: "org/model",
    revision: "main",
    hubUrl: HUB,
    tokenSet,
    timeoutMs: 1000,
    client: createHubClient({ hubUrl: HUB, token: null, timeoutMs: 1, baseFetch: fetch, signal: undefined }),
  });
  const http = (status: number, code: string | null, message: string | null = null) =>
    new HubHttpError(`${HUB}/org/model/resolve/main/x`, status, code, message);

  it("maps statuses and Hub error codes to outcomes", () => {
    expect(classifyHubError(http(404, "RevisionNotFound"), context(false))).toEqual({
      outcome: "not-found",
      message: `revision "main" not found in ${HUB}/org/model`,
    });
    expect(classifyHubError(http(401, "RepoNotFound"), context(false))).toEqual({
      outcome: "not-found",
      message: `repository not found at ${HUB}/org/model (or it is private: set HF_TOKEN)`,
    });
    const refused = classifyHubError(http(401, null, "Invalid credentials"), context(true));
    expect(refused).toMatchObject({ outcome: "error", error: { code: "PERMISSION_DENIED" } });
    expect(refused.message).toBe(`${HUB}/org/model: HF_TOKEN was refused (HTTP 401): Invalid credentials`);
    const unavailable = classifyHubError(http(503, null), context(false));
    expect(unavailable).toMatchObject({ outcome: "error", error: { code: "NETWORK_ERROR" } });
    expect(unavailable.message).toBe(`${HUB}/org/model: the Hub answered HTTP 503`);
  });

  it("maps transport failures to NETWORK_ERROR", () => {
    const refused = new TypeError("fetch failed", {
      cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
    });
    expect(classifyHubError(refused, context(false))).toMatchObject({
      outcome: "error",
      message: `cannot reach ${HUB} (ECONNREFUSED)`,
      error: { code: "NETWORK_ERROR" },
    });
    const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(classifyHubError(timeout, context(false)).message).toBe(`${HUB}: no answer within 1000 ms`);
  });
});
