import type { z } from "zod";
import type { ErrorCode } from "./error-codes.js";

/** One problem with a message: where (a dotted path into the message) and what. */
export interface ValidationIssue {
  path: string;
  message: string;
  code: ErrorCode;
}

/** Formats a zod issue path as `body.task_specification.parameters.items[2]`. */
export function formatPath(path: readonly PropertyKey[], prefix = ""): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

export function issuesFromZod(
  error: z.ZodError,
  prefix = "",
  code: ErrorCode = "validation_failed",
): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: formatPath(issue.path, prefix),
    message: issue.message,
    code,
  }));
}
