import type { TaskState } from "../protocol/states.js";
import type { StatusDetails, TaskStatus } from "../protocol/task-status.js";

/** The stored parts of one status message. */
export interface StoredStatus {
  taskId: string;
  referenceId: string;
  sequence: number;
  messageId: string;
  status: TaskState;
  progress: number | null;
  details: StatusDetails | null;
  at: number;
}

/** The last timestamp formatted, and its text: statuses written together share their millisecond. */
let lastAt = Number.NaN;
let lastTimestamp = "";

function timestamp(at: number): string {
  if (at !== lastAt) {
    lastTimestamp = new Date(at).toISOString();
    lastAt = at;
  }
  return lastTimestamp;
}

/** Builds the wire `task_status` message from its stored parts (shared by every backend). */
export function toStatusMessage(s: StoredStatus): TaskStatus {
  const body: TaskStatus["body"] = { status: s.status };
  if (s.progress !== null) body.progress = s.progress;
  if (s.details !== null) body.details = s.details;
  return {
    type: "task_status",
    header: {
      message_id: s.messageId,
      reference_id: s.referenceId,
      timestamp: timestamp(s.at),
      task_id: s.taskId,
      sequence: s.sequence,
    },
    body,
  };
}
