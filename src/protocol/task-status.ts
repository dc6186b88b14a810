import { z } from "zod";
import { ERROR_CODE_NAMES } from "./error-codes.js";
import { MessageId, Timestamp } from "./fields.js";
import { TASK_STATES } from "./states.js";

export const STATUS_EVENTS = [
  "task_accepted",
  "task_rejected",
  "resources_waiting",
  "retry_scheduled",
  "execution_started",
  "progress_update",
  "task_completed",
  "task_failed",
  "task_cancelled",
] as const;
export type StatusEvent = (typeof STATUS_EVENTS)[number];

export const TaskErrorInfo = z.object({
  code: z.enum(ERROR_CODE_NAMES),
  message: z.string(),
  retryable: z.boolean(),
});
export type TaskErrorInfo = z.infer<typeof TaskErrorInfo>;

export const StatusDetails = z
  .object({
    event: z.enum(STATUS_EVENTS).optional(),
    attempt: z.int().min(0).optional(),
    retry_at: Timestamp.optional(),
    result: z.unknown().optional(),
    error: TaskErrorInfo.optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string(), code: z.string() })).optional(),
    node: z.string().optional(),
  })
  .loose();
export type StatusDetails = z.infer<typeof StatusDetails>;

/**
 * The keys of status details that hold only the engine's bookkeeping (which event, which
 * attempt, which node, when a retry is due) and never anything a client or a handler gave: what
 * a status needs no encryption at rest for. Anything else (a result, an error, a handler's
 * progress details, a reason) is the client's.
 */
const BOOKKEEPING_DETAILS: ReadonlySet<string> = new Set([
  "event",
  "attempt",
  "node",
  "retry_at",
  "awaiting_worker",
]);

/** Whether status details hold anything beyond the engine's bookkeeping (see BOOKKEEPING_DETAILS). */
export function detailsHoldClientData(details: StatusDetails): boolean {
  for (const key in details) if (!BOOKKEEPING_DETAILS.has(key)) return true;
  return false;
}

export const TaskStatusHeader = z.object({
  message_id: MessageId,
  /** The `message_id` of the `submit_task` this status is about. */
  reference_id: MessageId,
  timestamp: Timestamp,
  /** Null only on the rejection of a submission that never became a task. */
  task_id: z.string().nullable(),
  /** Per task, from 1, one more with every status message. */
  sequence: z.int().min(1),
  auth: z.string().optional(),
});

export const TaskStatusBody = z.object({
  status: z.enum(TASK_STATES),
  progress: z.number().min(0).max(1).optional(),
  details: StatusDetails.optional(),
});

/** `task_status` (executor → submitter), SPEC §2. */
export const TaskStatus = z.object({
  type: z.literal("task_status"),
  header: TaskStatusHeader,
  body: TaskStatusBody,
});
export type TaskStatus = z.infer<typeof TaskStatus>;
