import { z } from "zod";
import { MessageId, Timestamp } from "./fields.js";

/** `acknowledge` (submitter → executor), SPEC §2: names the status message it acknowledges. */
export const Acknowledge = z.object({
  type: z.literal("acknowledge"),
  header: z.object({
    message_id: MessageId,
    reference_id: MessageId,
    timestamp: Timestamp.optional(),
    auth: z.string().optional(),
  }),
  body: z.object({}).loose().optional(),
});
export type Acknowledge = z.infer<typeof Acknowledge>;
