import { z } from "zod";
import { MessageId, Timestamp } from "./fields.js";

/** `cancel_task` (submitter or admin → executor), SPEC §2: names the task by id or by reference. */
export const CancelTask = z.object({
  type: z.literal("cancel_task"),
  header: z.object({ message_id: MessageId, timestamp: Timestamp, auth: z.string().optional() }),
  body: z
    .object({
      task_id: z.string().min(1).optional(),
      reference_id: MessageId.optional(),
      reason: z.string().max(1000).optional(),
    })
    .refine((b) => b.task_id !== undefined || b.reference_id !== undefined, {
      message: "task_id or reference_id is required",
      path: ["task_id"],
    }),
});
export type CancelTask = z.infer<typeof CancelTask>;
