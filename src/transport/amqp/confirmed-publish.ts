import type { ConfirmChannel, Options } from "amqplib";

/** One message for a confirm channel: to an exchange with a routing key (a queue: exchange ""). */
export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

/**
 * Publishes messages and resolves once the broker has confirmed these ones; rejects on a nack,
 * or when the channel closes first. Not amqplib's `waitForConfirms`: that wraps the callback of
 * every message still unconfirmed on the channel, at every call, a cost linear in what is in
 * flight for each batch sent (6 % of a worker's CPU, and more in garbage, on bulk work: issue 27).
 */
export function publishConfirmed(
  channel: ConfirmChannel,
  messages: readonly OutgoingMessage[],
): Promise<void> {
  if (messages.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let waiting = messages.length;
    let settled = false;
    const confirmed = (error: unknown) => {
      if (settled) return;
      if (error !== null && error !== undefined) {
        settled = true;
        reject(error instanceof Error ? error : new Error("the broker did not confirm a message"));
      } else if (--waiting === 0) {
        settled = true;
        resolve();
      }
    };
    for (const { exchange, routingKey, content, options } of messages)
      channel.publish(exchange, routingKey, content, options, confirmed);
  });
}
