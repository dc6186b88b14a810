import type { ChannelModel, ConfirmChannel } from "amqplib";

/**
 * The confirm channel one user of the broker holds on the current connection. Each (re)connect's
 * setup opens a new one and puts it in the slot once it is ready; the slot empties itself when
 * that channel closes (a lost connection), so nobody publishes or acks on a dead channel.
 */
export class ChannelSlot {
  #channel: ConfirmChannel | undefined;

  /** The live channel, or undefined between a loss and the next setup. */
  get current(): ConfirmChannel | undefined {
    return this.#channel;
  }

  /** A new confirm channel on `model`, which empties the slot when it closes while held. */
  async open(model: ChannelModel): Promise<ConfirmChannel> {
    const channel = await model.createConfirmChannel();
    // No "error" listener, on purpose: a channel the broker closes with an error (a queue checked
    // while deleted, a permission refused) then fails the connection, which amqplib recovers by
    // reconnecting, and every setup runs again: the one way back for what used this channel.
    channel.on("close", () => {
      if (this.#channel === channel) this.#channel = undefined;
    });
    return channel;
  }

  hold(channel: ConfirmChannel): void {
    this.#channel = channel;
  }

  async close(): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    await channel?.close().catch(() => {});
  }
}

/**
 * Acks or nacks on the channel a message came on. When that channel closed meanwhile (a
 * reconnect), amqplib throws; there is nothing to do then, since the broker redelivers what was
 * not acked, and a delivery tag is never settled on another channel.
 */
export function settle(act: () => void): void {
  try {
    act();
  } catch {
    // IllegalOperationError: the channel is gone.
  }
}
