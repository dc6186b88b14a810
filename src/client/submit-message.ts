import { randomUUID } from "node:crypto";
import { PROTOCOL_VERSION } from "../protocol/version.js";
import type { SubmitRequest } from "./task-client.js";

/** Builds the `submit_task` message for a request. */
export function toSubmitMessage(request: SubmitRequest, now = new Date()) {
  const specification: Record<string, unknown> = { type: request.type, parameters: request.parameters ?? {} };
  if (request.requirements !== undefined) specification.requirements = request.requirements;
  if (request.timeoutMs !== undefined) specification.timeout_ms = request.timeoutMs;
  if (request.maxAttempts !== undefined) specification.max_attempts = request.maxAttempts;
  const body: Record<string, unknown> = {
    task_specification: specification,
    priority: request.priority ?? 5,
  };
  if (request.deadline !== undefined) {
    body.deadline = request.deadline instanceof Date ? request.deadline.toISOString() : request.deadline;
  }
  return {
    type: "submit_task" as const,
    header: {
      message_id: request.messageId ?? randomUUID(),
      timestamp: now.toISOString(),
      protocol_version: PROTOCOL_VERSION,
    },
    body,
  };
}

/** Cursors are opaque to clients; inside, the submission order to continue before. */
export function encodeCursor(submitSeq: number): string {
  return Buffer.from(`s:${submitSeq}`).toString("base64url");
}

export function decodeCursor(cursor: string): number | undefined {
  const match = /^s:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return match ? Number(match[1]) : undefined;
}
