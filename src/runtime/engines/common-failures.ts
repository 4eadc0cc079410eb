/**
 * Failure lines that look the same whichever engine prints them: PyTorch/CUDA out of memory,
 * Hugging Face Hub access errors (gated repo, 401, missing repo), transformers' trust_remote_code
 * refusal, unsupported architectures, and a port that is already taken.
 */

import { type FailureEvent, failureEvent } from "./log-events.js";
import { readLogNumber } from "./log-line-text.js";

const CUDA_OOM =
  /CUDA out of memory|OutOfMemoryError|CUDA error: out of memory|HIP out of memory|cudaMalloc failed: out of memory|hipMalloc failed: out of memory|failed to allocate (?:CUDA|ROCm|HIP|Vulkan)\d* buffer|unable to allocate (?:CUDA|ROCm|HIP|Vulkan)\d* buffer/;
const TRUST_REMOTE_CODE =
  /requires you to execute the \w+ file in that repo|set the option `?trust_remote_code=True`? to remove this error|Please pass the argument `trust_remote_code=True`/;
const HF_ACCESS =
  /Cannot access gated repo|GatedRepoError|You are trying to access a gated repo|401 Client Error|Invalid user token|Access to model \S+ is restricted|Invalid credentials in Authorization header/;
const MODEL_NOT_FOUND =
  /RepositoryNotFoundError|Repository Not Found for url|is not a local folder and is not a valid model identifier/;
const ARCHITECTURES = /Model architectures? (\[[^\]]*\]) (?:are|is) not supported/;
const ADDRESS_IN_USE = /\[Errno 98\]|[Aa]ddress already in use|EADDRINUSE|couldn't bind HTTP server socket/;

/** The failure a line reports, when it is one that any engine can print; null otherwise. */
export function parseCommonFailure(text: string): FailureEvent | null {
  if (CUDA_OOM.test(text)) return failureEvent("cuda-out-of-memory", text);
  if (TRUST_REMOTE_CODE.test(text)) return failureEvent("trust-remote-code-required", text);
  if (HF_ACCESS.test(text)) return failureEvent("hf-access-denied", text);
  if (MODEL_NOT_FOUND.test(text)) return failureEvent("model-not-found", text);
  const architectures = ARCHITECTURES.exec(text);
  if (architectures) {
    return failureEvent("unsupported-architecture", text, {
      architectures: readQuotedNames(architectures[1] ?? ""),
    });
  }
  if (ADDRESS_IN_USE.test(text)) return failureEvent("address-in-use", text, { port: readPort(text) });
  return null;
}

function readQuotedNames(list: string): string[] {
  return [...list.matchAll(/['"]([^'"]+)['"]/g)].map((match) => match[1] ?? "").filter((name) => name !== "");
}

/** The port of "('0.0.0.0', 8000)" (uvicorn) or "port: 8080" (llama-server), when the line names one. */
function readPort(text: string): number | null {
  const match = /\(\s*'[^']*',\s*(\d{1,5})\s*[,)]/.exec(text) ?? /\bport[:=]?\s*(\d{1,5})\b/.exec(text);
  return readLogNumber(match?.[1]);
}
