import { v7 as timeOrderedId } from "uuid";
import { PROTOCOL_VERSION } from "../protocol/version.js";
import type { SubmitRequest } from "./task-client.js";

/** Builds the `submit_task` message for a request (a time-ordered message id unless one is given). */
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
      message_id: request.messageId ?? timeOrderedId(),
      timestamp: now.toISOString(),
      protocol_version: PROTOCOL_VERSION,
    },
    body,
  };
}
