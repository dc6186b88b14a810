import type { z } from "zod";
import { Acknowledge } from "./acknowledge.js";
import { CancelTask } from "./cancel-task.js";
import { SubmitTask } from "./submit-task.js";
import { TaskStatus } from "./task-status.js";

/** Every protocol message, by wire type: the source of the published JSON Schemas. */
export const MESSAGE_SCHEMAS = {
  submit_task: SubmitTask,
  task_status: TaskStatus,
  cancel_task: CancelTask,
  acknowledge: Acknowledge,
} as const satisfies Record<string, z.ZodType>;

export type MessageType = keyof typeof MESSAGE_SCHEMAS;
