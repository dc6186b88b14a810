/**
 * The one registry of protocol error codes (SPEC §2): what each means, the HTTP status it maps
 * to, and whether a task failing with it is retried. A retired code is never reused.
 */
export const ERROR_CODES = {
  validation_failed: { http: 422, retryable: false, summary: "the message does not follow the protocol" },
  unauthenticated: { http: 401, retryable: false, summary: "missing or invalid credentials" },
  forbidden: { http: 403, retryable: false, summary: "the principal may not do this" },
  rate_limited: { http: 429, retryable: false, summary: "too many submissions; slow down" },
  quota_exceeded: { http: 429, retryable: false, summary: "the principal's quota is used up" },
  resource_unavailable: { http: 503, retryable: true, summary: "resources were not free in time" },
  resource_unsatisfiable: { http: 422, retryable: false, summary: "more resources than any node has" },
  deadline_exceeded: { http: 422, retryable: false, summary: "the task's deadline passed" },
  timeout: { http: 504, retryable: true, summary: "the handler ran longer than timeout_ms" },
  handler_error: { http: 500, retryable: true, summary: "the handler failed" },
  handler_not_found: { http: 422, retryable: false, summary: "no handler is registered for the task type" },
  executor_lost: { http: 503, retryable: true, summary: "the executor running the task stopped" },
  cancelled: { http: 409, retryable: false, summary: "the task was cancelled" },
  // Not in SPEC §2's list: an HTTP answer for a task (or route) that does not exist or is not
  // the caller's to see. Added because no protocol code says "not found".
  not_found: { http: 404, retryable: false, summary: "no such task (or not yours to see)" },
  // A fault of the executor's, never of the caller's input: reported for the one message or
  // request it struck, and never as `handler_error` (which is the handler's own failure).
  internal_error: { http: 500, retryable: true, summary: "a fault of the executor's; retry later" },
  // SPEC §2: the store (or the broker) is away; nothing was accepted, and the same request
  // succeeds once it is back (HTTP 503 with Retry-After; the clients retry it by themselves).
  unavailable: { http: 503, retryable: true, summary: "the store or the broker is away; retry" },
} as const satisfies Record<string, { http: number; retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}
