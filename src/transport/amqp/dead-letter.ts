import type { ConfirmChannel, ConsumeMessage } from "amqplib";
import { settle } from "./channel-slot.js";
import { publishConfirmed } from "./confirmed-publish.js";
import { EXCHANGES } from "./topology.js";

/** The header that says why a message was dead-lettered. */
export const REASON_HEADER = "x-taskexec-reason";

/**
 * Moves a message that cannot be taken (not parseable, not authenticated, not valid) to
 * `taskexec.dlx` with the reason in a header, then acks it: it never blocks its queue and is never
 * redelivered, and an operator finds it, with why, in `taskexec.dead`.
 */
export async function deadLetter(
  channel: ConfirmChannel,
  message: ConsumeMessage,
  from: string,
  reason: string,
  /** The channel it was delivered on, when not `channel`. */
  deliveredOn: { ack(message: ConsumeMessage): void } = channel,
  /** The delivery to ack, when `message` is a copy of it (cut short, say). */
  delivery: ConsumeMessage = message,
): Promise<void> {
  await publishConfirmed(channel, [
    {
      exchange: EXCHANGES.dead,
      routingKey: message.fields.routingKey,
      content: message.content,
      options: {
        ...message.properties,
        persistent: true,
        headers: {
          ...message.properties.headers,
          [REASON_HEADER]: reason.slice(0, 1_000),
          "x-taskexec-from": from,
        },
      },
    },
  ]);
  settle(() => deliveredOn.ack(delivery));
}
