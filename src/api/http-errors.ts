import type { Socket } from "node:net";
import type { FastifyReply } from "fastify";
import { ERROR_CODES, type ErrorCode } from "../protocol/error-codes.js";
import { AmbiguousTaskIdError, MalformedMessageError, TaskexecError } from "../protocol/errors.js";
import { StoreUnavailableError } from "../store/errors.js";

/** How long a client is asked to wait before it tries again while the store is away. */
const UNAVAILABLE_RETRY_AFTER_S = 2;

export interface HttpError {
  status: number;
  code: ErrorCode;
  message: string;
  details?: unknown;
  retryAfterS?: number;
}

/** Fastify's own errors a client can cause, as protocol codes. */
const FASTIFY_ERRORS: Record<string, { status: number; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, message: "the body is not valid JSON" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, message: "the body is empty but says it is JSON" },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, message: "the body is larger than http.body_limit" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, message: "send the body as application/json" },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, message: "the Content-Length does not match the body" },
  FST_ERR_BAD_URL: { status: 400, message: "the URL is not valid (bad percent-encoding?)" },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, message: "the request cannot be routed" },
};

/** Maps anything a route may throw to the HTTP answer; unknown errors are 500 without details. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof MalformedMessageError) {
    return { status: 400, code: error.code, message: error.message, details: { errors: error.issues } };
  }
  if (error instanceof AmbiguousTaskIdError) {
    const { code, message, candidates } = error;
    return { status: 409, code, message, details: { candidates } };
  }
  if (error instanceof TaskexecError) {
    const retryAfterS = error.code === "unavailable" ? UNAVAILABLE_RETRY_AFTER_S : undefined;
    return { status: ERROR_CODES[error.code].http, code: error.code, message: error.message, retryAfterS };
  }
  if (error instanceof StoreUnavailableError) {
    return {
      status: 503,
      code: "unavailable",
      message: "the store is unreachable; nothing was done: retry",
      retryAfterS: UNAVAILABLE_RETRY_AFTER_S,
    };
  }
  const fastify = error as { code?: string; validation?: unknown; statusCode?: number; message?: string };
  const known = fastify.code === undefined ? undefined : FASTIFY_ERRORS[fastify.code];
  if (known) return { status: known.status, code: "validation_failed", message: known.message };
  if (fastify.validation !== undefined) {
    return {
      status: 400,
      code: "validation_failed",
      message: fastify.message ?? "invalid request",
      details: fastify.validation,
    };
  }
  if (fastify.statusCode !== undefined && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return {
      status: fastify.statusCode,
      code: "validation_failed",
      message: fastify.message ?? "bad request",
    };
  }
  return { status: 500, code: "internal_error", message: "internal error (the server logged it)" };
}

export function errorBody(e: HttpError) {
  return {
    error: { code: e.code, message: e.message, ...(e.details !== undefined && { details: e.details }) },
  };
}

export function sendError(reply: FastifyReply, e: HttpError): FastifyReply {
  if (e.retryAfterS !== undefined) void reply.header("retry-after", String(e.retryAfterS));
  if (e.code === "unauthenticated") void reply.header("www-authenticate", 'Bearer realm="taskexec"');
  return reply.code(e.status).send(errorBody(e));
}

/** Errors Node's HTTP parser meets before any route runs, as our status and message. */
function clientErrorAnswer(code: string | undefined): HttpError {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return { status: 431, code: "validation_failed", message: "the request's headers are too large" };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return {
        status: 408,
        code: "validation_failed",
        message: "the request did not arrive in time (http.headers_timeout_ms, http.request_timeout_ms)",
      };
    default:
      return { status: 400, code: "validation_failed", message: "the request is not valid HTTP" };
  }
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

/**
 * Fastify's `clientErrorHandler`: answers a request Node could not parse or that came too slowly
 * in our error shape, then closes the socket.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || error.code === "ECONNRESET" || error.code === "EPIPE") {
    socket.destroy();
    return;
  }
  const answer = clientErrorAnswer(error.code);
  const body = JSON.stringify(errorBody(answer));
  socket.end(
    `HTTP/1.1 ${answer.status} ${REASONS[answer.status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
  );
}
