import { HubApiError } from "@huggingface/hub";
import { ServepilotError } from "../../core/errors.js";
import { type HubClient, HubHttpError } from "./hub-client.js";
import type { SourceOutcome } from "./source-outcome.js";

export interface HubErrorContext {
  repo: string;
  revision: string;
  hubUrl: string;
  tokenSet: boolean;
  timeoutMs: number;
  client: HubClient;
}

interface HttpFailure {
  status: number;
  errorCode: string | null;
  serverMessage: string | null;
}

/** Status and Hub error headers of a failed request, from either library's error type. */
function httpFailureOf(error: unknown, client: HubClient): HttpFailure | null {
  if (error instanceof HubHttpError) return error;
  if (error instanceof HubApiError) {
    const headers = client.errorFor(error.url);
    return {
      status: error.statusCode,
      errorCode: headers?.errorCode ?? null,
      serverMessage: headers?.serverMessage ?? error.message.split(". URL: ")[0] ?? null,
    };
  }
  return null;
}

function networkCode(error: unknown): string | null {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return typeof cause?.code === "string" ? cause.code : null;
}

function networkError(message: string, ctx: HubErrorContext, cause: unknown): SourceOutcome {
  return {
    outcome: "error",
    message,
    error: new ServepilotError("NETWORK_ERROR", message, {
      hint: "Check the connection and HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use local files and the catalog only.",
      details: { repo: ctx.repo, hubUrl: ctx.hubUrl },
      cause,
    }),
  };
}

function permissionError(
  message: string,
  ctx: HubErrorContext,
  gated: boolean,
  cause: unknown,
): SourceOutcome {
  const page = `${ctx.hubUrl}/${ctx.repo}`;
  const hint = gated
    ? ctx.tokenSet
      ? `The account of HF_TOKEN has no access yet: accept the license at ${page} (and wait for approval if the authors review requests).`
      : `Accept the license at ${page}, create a read token at ${ctx.hubUrl}/settings/tokens and set HF_TOKEN.`
    : "Check that HF_TOKEN is a valid token with read access to this repository.";
  return {
    outcome: "error",
    message,
    error: new ServepilotError("PERMISSION_DENIED", message, {
      hint,
      details: { repo: ctx.repo, hubUrl: ctx.hubUrl, gated },
      cause,
    }),
  };
}

/**
 * Classifies a failure while reading a repo from the Hub. Codes follow huggingface_hub's
 * hf_raise_for_status: the Hub answers 401 + RepoNotFound for a repo that does not exist (or is
 * private) when no token is sent, 401/403 + GatedRepo for a gated repo, 404 + RevisionNotFound /
 * EntryNotFound for a missing revision or file.
 */
export function classifyHubError(error: unknown, ctx: HubErrorContext): SourceOutcome {
  if (error instanceof ServepilotError) return { outcome: "error", message: error.message, error };
  const where = `${ctx.hubUrl}/${ctx.repo}`;
  const http = httpFailureOf(error, ctx.client);
  if (http) {
    const said = http.serverMessage ? `: ${http.serverMessage}` : "";
    if (
      http.errorCode === "GatedRepo" ||
      (http.status === 403 && /gated|restricted/i.test(http.serverMessage ?? ""))
    ) {
      return permissionError(
        `${ctx.repo} is a gated repository (HTTP ${http.status})${said}`,
        ctx,
        true,
        error,
      );
    }
    if (http.errorCode === "RevisionNotFound") {
      return {
        outcome: "not-found",
        message: `revision ${JSON.stringify(ctx.revision)} not found in ${where}`,
      };
    }
    if (http.status === 404 || http.errorCode === "RepoNotFound") {
      const privateNote = ctx.tokenSet ? "" : " (or it is private: set HF_TOKEN)";
      return { outcome: "not-found", message: `repository not found at ${where}${privateNote}` };
    }
    if (http.status === 401 || http.status === 403) {
      const tokenNote = ctx.tokenSet ? "HF_TOKEN was refused" : "authentication required";
      return permissionError(`${where}: ${tokenNote} (HTTP ${http.status})${said}`, ctx, false, error);
    }
    return networkError(`${where}: the Hub answered HTTP ${http.status}${said}`, ctx, error);
  }
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "TimeoutError") {
    return networkError(`${ctx.hubUrl}: no answer within ${ctx.timeoutMs} ms`, ctx, error);
  }
  if (error instanceof TypeError && error.message === "fetch failed") {
    const code = networkCode(error);
    return networkError(`cannot reach ${ctx.hubUrl}${code ? ` (${code})` : ""}`, ctx, error);
  }
  const reason = error instanceof Error ? error.message : String(error);
  return networkError(`${where}: unexpected answer from the Hub: ${reason}`, ctx, error);
}
