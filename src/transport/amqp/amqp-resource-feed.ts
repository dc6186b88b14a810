import type { ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import {
  decodeResourceStatus,
  encodeResourceStatus,
  type ResourceStatus,
} from "../../resources/resource-status-codec.js";
import type { AmqpConnection } from "./amqp-connection.js";
import { ChannelSlot, settle } from "./channel-slot.js";
import { deadLetter } from "./dead-letter.js";
import { EXCHANGES } from "./topology.js";

export type ResourceListener = (status: ResourceStatus) => void;

/**
 * Workers' resource statuses over `taskexec.resources` (protobuf, routing key the node id): a
 * worker publishes its own every heartbeat_ms; the API listens to all, on a queue of its own
 * (exclusive, gone with the connection), to keep the cluster view. A message that is not a
 * ResourceStatus is dead-lettered with the decoder's reason and the feed goes on.
 */
export class AmqpResourceFeed {
  readonly #listeners = new Set<ResourceListener>();
  readonly #onError: (error: unknown) => void;
  readonly #slot = new ChannelSlot();
  #detach: (() => void) | undefined;

  private constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  static async open(
    connection: AmqpConnection,
    onError: (error: unknown) => void = () => {},
  ): Promise<AmqpResourceFeed> {
    const feed = new AmqpResourceFeed(onError);
    feed.#detach = await connection.attach((model) => feed.#setup(model));
    return feed;
  }

  /** Publishes this node's status; resolves once the broker has it (rejects while disconnected). */
  async publish(status: Omit<ResourceStatus, "protocolVersion">): Promise<void> {
    const channel = this.#slot.current;
    if (channel === undefined) throw new Error("not connected to the broker; it reconnects by itself");
    channel.publish(EXCHANGES.resources, status.nodeId, Buffer.from(encodeResourceStatus(status)), {
      persistent: true,
      contentType: "application/x-protobuf",
      type: "resource_status",
    });
    await channel.waitForConfirms();
  }

  /**
   * Hears every node's statuses from now on; resolves once it does. Only a process that listens
   * has a queue (a worker that only publishes holds none).
   */
  async listen(listener: ResourceListener): Promise<() => void> {
    this.#listeners.add(listener);
    const channel = this.#slot.current;
    if (this.#listeners.size === 1 && channel !== undefined) await this.#consume(channel);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#detach?.();
    this.#listeners.clear();
    await this.#slot.close();
  }

  async #setup(model: ChannelModel): Promise<void> {
    const channel = await this.#slot.open(model);
    if (this.#listeners.size > 0) await this.#consume(channel);
    this.#slot.hold(channel);
  }

  async #consume(channel: ConfirmChannel): Promise<void> {
    const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, EXCHANGES.resources, "#");
    await channel.consume(queue, (message) => {
      if (message !== null) this.#heard(channel, queue, message);
    });
  }

  #heard(channel: ConfirmChannel, queue: string, message: ConsumeMessage): void {
    let status: ResourceStatus;
    try {
      status = decodeResourceStatus(message.content);
    } catch (error) {
      const reason = `not a ResourceStatus: ${(error as Error).message}`;
      deadLetter(channel, message, queue, reason).catch((e: unknown) => this.#onError(e));
      return;
    }
    settle(() => channel.ack(message));
    for (const listener of this.#listeners) {
      try {
        listener(status);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}
