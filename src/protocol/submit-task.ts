import { z } from "zod";
import { JsonObject, MessageId, Priority, ProtocolVersion, Requirements, Timestamp } from "./fields.js";

export const TaskSpecification = z.object({
  type: z.string().min(1, "must not be empty").max(200, "must be at most 200 characters"),
  parameters: JsonObject.default({}),
  requirements: Requirements.optional(),
  timeout_ms: z.int("must be an integer").positive("must be positive").optional(),
  max_attempts: z.int("must be an integer").min(1, "must be 1–100").max(100, "must be 1–100").optional(),
});
export type TaskSpecification = z.infer<typeof TaskSpecification>;

export const SubmitTaskHeader = z.object({
  message_id: MessageId,
  timestamp: Timestamp,
  auth: z.string().min(1).optional(),
  protocol_version: ProtocolVersion.optional(),
});
export type SubmitTaskHeader = z.infer<typeof SubmitTaskHeader>;

export const SubmitTaskBody = z.object({
  /** The specification, or a JWE compact string of it (message-level encryption). */
  task_specification: z.union([TaskSpecification, z.string().min(1)]),
  priority: Priority,
  deadline: Timestamp.optional(),
});
export type SubmitTaskBody = z.infer<typeof SubmitTaskBody>;

/** `submit_task` (submitter → executor), SPEC §2. */
export const SubmitTask = z.object({
  type: z.literal("submit_task"),
  header: SubmitTaskHeader,
  body: SubmitTaskBody,
});
export type SubmitTask = z.infer<typeof SubmitTask>;

/**
 * The part of a `submit_task` that must be readable before a rejection can even be addressed
 * (it names the message being rejected). Failing this is a malformed message (HTTP 400);
 * failing the rest is a rejection (HTTP 422).
 */
export const SubmitTaskEnvelope = z.object({
  type: z.literal("submit_task"),
  header: z.object({ message_id: MessageId }).loose(),
  body: z.unknown(),
});
