/**
 * One error shape for the whole HTTP API: `{"error": {"code", "message", "hint"?, "details"?}}` with
 * the status that fits the code. Validation failures name each field (`body.engine`), never a stack.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { type ErrorCode, isServepilotError } from "../../core/errors.js";

const STATUS_OF_CODE: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  INVALID_MODEL_CONFIG: 400,
  INVALID_DATA_FILE: 400,
  UNKNOWN_GPU: 400,
  MODEL_NOT_FOUND: 404,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAUTHORIZED: 401,
  PERMISSION_DENIED: 403,
  RATE_LIMITED: 429,
  STORAGE_FULL: 507,
  GPU_DETECTION_FAILED: 503,
  NETWORK_ERROR: 502,
  CACHE_ERROR: 500,
  LAUNCH_FAILED: 422,
  INTERNAL: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return STATUS_OF_CODE[code] ?? 500;
}

export interface ApiErrorBody {
  error: { code: string; message: string; hint?: string; details?: unknown };
}

export interface FieldError {
  field: string;
  message: string;
}

function fieldName(context: string | undefined, instancePath: string): string {
  const path = instancePath.replace(/^\//, "").split("/").filter(Boolean).join(".");
  return [context ?? "body", path].filter(Boolean).join(".");
}

/** Whether an error is a full disk: SQLite's SQLITE_FULL (better-sqlite3) or the system's ENOSPC. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_FULL" || code === "ENOSPC";
}

export function errorBody(error: unknown): { status: number; body: ApiErrorBody; internal: boolean } {
  if (isDiskFull(error)) {
    return {
      status: 507,
      internal: false,
      body: {
        error: {
          code: "STORAGE_FULL",
          message: "the disk holding the studio's data directory is full: nothing was written",
          hint: "free space on that disk; the studio recovers by itself",
        },
      },
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as FastifyError).validationContext;
    const fields: FieldError[] = error.validation.map((issue) => ({
      field: fieldName(context, issue.instancePath),
      message: issue.message ?? "invalid value",
    }));
    return {
      status: 400,
      internal: false,
      body: {
        error: {
          code: "INVALID_ARGUMENT",
          message: fields.map((f) => `${f.field}: ${f.message}`).join("; "),
          details: { fields },
        },
      },
    };
  }
  if (isServepilotError(error)) {
    return {
      status: httpStatusOf(error.code),
      internal: error.code === "INTERNAL",
      body: {
        error: {
          code: error.code,
          message: error.message,
          ...(error.hint ? { hint: error.hint } : {}),
          ...(error.details !== undefined ? { details: error.details } : {}),
        },
      },
    };
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const code =
      status === 429
        ? "RATE_LIMITED"
        : status === 401
          ? "UNAUTHORIZED"
          : status === 404
            ? "NOT_FOUND"
            : "INVALID_ARGUMENT";
    return {
      status,
      internal: false,
      body: { error: { code, message: fastifyError.message ?? "bad request" } },
    };
  }
  return {
    status: 500,
    internal: true,
    body: { error: { code: "INTERNAL", message: "internal error (see the studio log for the request id)" } },
  };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const { status, body, internal } = errorBody(error);
  if (internal) request.log.error({ err: error }, "request failed");
  else if (status >= 500) request.log.warn({ code: body.error.code, status }, body.error.message);
  else request.log.info({ code: body.error.code, status }, body.error.message);
  return reply.status(status).send(body);
}
