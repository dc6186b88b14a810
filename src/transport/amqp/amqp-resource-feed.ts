import type { ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import {
  decodeResourceStatus,
  encodeResourceStatus,
  type ResourceStatus,
} from "../../resources/resource-status-codec.js";
import type { AmqpConnection } from "./amqp-connection.js";
import { ChannelSlot, settle } from "./channel-slot.js";
import { publishConfirmed } from "./confirmed-publish.js";
import { deadLetter } from "./dead-letter.js";
import { refusalOf, SIGNATURE_HEADER, type SignMessage, type VerifyMessage } from "./message-proof.js";
import { MessageRefused } from "./message-refused.js";
import { EXCHANGES } from "./topology.js";

export type ResourceListener = (status: ResourceStatus) => void;

export interface AmqpResourceFeedOptions {
  /** Told of listener errors, and of messages it refused. */
  onError?: (error: unknown) => void;
  /** Signs the statuses this process publishes (in {@link SIGNATURE_HEADER}). */
  sign?: SignMessage | undefined;
  /** Checks that a status heard was signed by an executor; the others are refused. */
  verify?: VerifyMessage | undefined;
}

/**
 * Workers' resource statuses over `taskexec.resources` (protobuf, routing key the node id): a
 * worker publishes its own every heartbeat_ms, signed (when auth is on); the API listens to all,
 * on a queue of its own (exclusive, gone with the connection), to keep the cluster view. A message
 * that is not a ResourceStatus, or not one an executor signed, is dead-lettered with why and the
 * feed goes on: a forged heartbeat adds no node and marks no live one dead.
 */
export class AmqpResourceFeed {
  readonly #listeners = new Set<ResourceListener>();
  readonly #onError: (error: unknown) => void;
  readonly #sign: SignMessage | undefined;
  readonly #verify: VerifyMessage | undefined;
  readonly #slot = new ChannelSlot();
  #detach: (() => void) | undefined;

  private constructor(options: AmqpResourceFeedOptions) {
    this.#onError = options.onError ?? (() => {});
    this.#sign = options.sign;
    this.#verify = options.verify;
  }

  static async open(
    connection: AmqpConnection,
    options: AmqpResourceFeedOptions = {},
  ): Promise<AmqpResourceFeed> {
    const feed = new AmqpResourceFeed(options);
    feed.#detach = await connection.attach((model) => feed.#setup(model));
    return feed;
  }

  /** Publishes this node's status; resolves once the broker has it (rejects while disconnected). */
  async publish(status: Omit<ResourceStatus, "protocolVersion">): Promise<void> {
    const content = Buffer.from(encodeResourceStatus(status));
    const signature = await this.#sign?.(content);
    const channel = this.#slot.current;
    if (channel === undefined) throw new Error("not connected to the broker; it reconnects by itself");
    await publishConfirmed(channel, [
      {
        exchange: EXCHANGES.resources,
        routingKey: status.nodeId,
        content,
        options: {
          persistent: true,
          contentType: "application/x-protobuf",
          type: "resource_status",
          ...(signature !== undefined && { headers: { [SIGNATURE_HEADER]: signature } }),
        },
      },
    ]);
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
    if (this.#verify === undefined) {
      this.#decoded(channel, queue, message);
      return;
    }
    refusalOf(this.#verify, message.content, message.properties.headers, {
      redelivered: message.fields.redelivered,
    }).then(
      (refusal) => {
        if (refusal === undefined) this.#decoded(channel, queue, message);
        else this.#refuse(channel, queue, message, refusal);
      },
      (error: unknown) => this.#onError(error),
    );
  }

  #refuse(channel: ConfirmChannel, queue: string, message: ConsumeMessage, reason: string): void {
    this.#onError(new MessageRefused(EXCHANGES.resources, reason));
    deadLetter(channel, message, queue, reason).catch((e: unknown) => this.#onError(e));
  }

  #decoded(channel: ConfirmChannel, queue: string, message: ConsumeMessage): void {
    let status: ResourceStatus;
    try {
      status = decodeResourceStatus(message.content);
    } catch (error) {
      this.#refuse(channel, queue, message, `not a ResourceStatus: ${(error as Error).message}`);
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
