import { ERROR_CODES, type ErrorCode } from "./error-codes.js";
import type { ValidationIssue } from "./issues.js";

/** Base of every error taskexec raises on purpose: it carries a protocol error code. */
export class TaskexecError extends Error {
  override name = "TaskexecError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }
}

/**
 * Thrown by a handler to fail its task without retrying it (BullMQ's UnrecoverableError,
 * Temporal's nonRetryable). Any other error a handler throws is retried up to `max_attempts`.
 */
export class PermanentError extends Error {
  override name = "PermanentError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A message that cannot even be read as the envelope it claims to be (HTTP 400). */
export class MalformedMessageError extends TaskexecError {
  override name = "MalformedMessageError";
  constructor(readonly issues: ValidationIssue[]) {
    super("validation_failed", `malformed message: ${describeIssues(issues)}`);
  }
}

/** A submission the executor refused: every issue found, each with its path. */
export class TaskRejectedError extends TaskexecError {
  override name = "TaskRejectedError";
  constructor(
    code: ErrorCode,
    readonly issues: ValidationIssue[],
  ) {
    super(code, `task rejected: ${describeIssues(issues)}`);
  }
}

/**
 * An abbreviated task id (a prefix, or `prefix…suffix`) that stands for more than one of the
 * principal's tasks: the candidates are listed so the caller can pick one.
 */
export class AmbiguousTaskIdError extends TaskexecError {
  override name = "AmbiguousTaskIdError";
  constructor(
    readonly abbreviation: string,
    readonly candidates: readonly string[],
    more: boolean,
  ) {
    super(
      "validation_failed",
      `"${abbreviation}" matches ${more ? `more than ${candidates.length}` : candidates.length} tasks: ${candidates.join(", ")}${more ? ", …" : ""}; give more of the id`,
    );
  }
}

/** A task id that does not exist, or that the principal may not see. */
export class TaskNotFoundError extends TaskexecError {
  override name = "TaskNotFoundError";
  constructor(readonly taskId: string) {
    super("not_found", `no task ${taskId}`);
  }
}

function describeIssues(issues: ValidationIssue[]): string {
  const shown = issues.slice(0, 3).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : "";
  return shown.join("; ") + more;
}

/** Turns anything a handler may throw (a string, an object, undefined) into an Error. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === "string") return new Error(thrown);
  let text: string;
  try {
    text = JSON.stringify(thrown) ?? String(thrown);
  } catch {
    text = String(thrown);
  }
  return new Error(`non-Error thrown: ${text}`);
}
