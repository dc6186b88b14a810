import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import { type TaskRecord, writtenWork } from "../../domain/records.js";
import { InProcessWorkSignal } from "../memory/in-process-work-signal.js";
import type { AmqpConnection } from "./amqp-connection.js";
import { ChannelSlot } from "./channel-slot.js";
import { deadLetter } from "./dead-letter.js";
import { QUEUES } from "./topology.js";
import type { WorkMessage } from "./work-relay.js";

/** How long a delivery that could not be claimed (the database away) waits before it goes back. */
const RETRY_MS = 1_000;

export interface AmqpWorkSignalOptions {
  /** Claims these tasks for this worker (the store's `claimTasks`); returns those it got. */
  claim: (taskIds: readonly string[]) => Promise<TaskRecord[]>;
  /** Deliveries held at once: about the worker's share of work (twice its slots). */
  prefetch: number;
  /** Woken when this process made work ready (it relays the outbox). */
  wake?: () => void;
  onError?: (error: unknown) => void;
}

/**
 * The work signal of distributed mode, on a worker: consumes `taskexec.tasks` (prefetch about its
 * share of work), claims the tasks each turn's deliveries name in PostgreSQL, hands those it got
 * to its listeners as ready work, and only then acks the deliveries. A delivery naming a task
 * that finished, runs, or another worker holds is acked and dropped (the claim is the fence; the
 * start is checked again); one that is not a work message is dead-lettered. When the claim fails
 * (the database away), the deliveries go back to the queue after a pause.
 */
export class AmqpWorkSignal extends InProcessWorkSignal {
  override readonly reachesOthers = true;
  readonly #options: AmqpWorkSignalOptions;
  readonly #report: (error: unknown) => void;
  readonly #slot = new ChannelSlot();
  #detach: (() => void) | undefined;
  /** Deliveries of this turn, claimed together. */
  #batch: { channel: Channel; message: ConsumeMessage; taskId: string }[] = [];

  private constructor(options: AmqpWorkSignalOptions) {
    const report = options.onError ?? (() => {});
    super(report);
    this.#options = options;
    this.#report = report;
  }

  static async open(connection: AmqpConnection, options: AmqpWorkSignalOptions): Promise<AmqpWorkSignal> {
    const signal = new AmqpWorkSignal(options);
    signal.#detach = await connection.attach((model) => signal.#setup(model));
    return signal;
  }

  override ready(work: Parameters<InProcessWorkSignal["ready"]>[0]): void {
    super.ready(work);
    this.#options.wake?.();
  }

  override async mayBeReady(): Promise<void> {
    await super.mayBeReady();
    this.#options.wake?.();
  }

  override async close(): Promise<void> {
    this.#detach?.();
    await this.#slot.close();
    await super.close();
  }

  async #setup(model: ChannelModel): Promise<void> {
    const channel = await this.#slot.open(model);
    await channel.prefetch(this.#options.prefetch);
    await channel.consume(QUEUES.tasks, (message) => {
      if (message !== null) this.#delivered(channel, message);
    });
    this.#slot.hold(channel);
  }

  #delivered(channel: ConfirmChannel, message: ConsumeMessage): void {
    let taskId: unknown;
    try {
      taskId = (JSON.parse(message.content.toString("utf8")) as Partial<WorkMessage>).task_id;
    } catch {
      taskId = undefined;
    }
    if (typeof taskId !== "string" || taskId.length === 0) {
      deadLetter(channel, message, QUEUES.tasks, "not a work message: no task_id").catch((e: unknown) =>
        this.#report(e),
      );
      return;
    }
    if (this.#batch.length === 0) setImmediate(() => this.#claimBatch());
    this.#batch.push({ channel, message, taskId });
  }

  #claimBatch(): void {
    const batch = this.#batch;
    this.#batch = [];
    this.#options.claim([...new Set(batch.map((d) => d.taskId))]).then(
      (tasks) => {
        // Acked once the claims are committed: the tasks are this worker's now, or stale.
        if (tasks.length > 0) super.ready(writtenWork(tasks));
        for (const { channel, message } of batch) settle(() => channel.ack(message));
      },
      (error: unknown) => {
        this.#report(error);
        setTimeout(() => {
          for (const { channel, message } of batch) settle(() => channel.nack(message, false, true));
        }, RETRY_MS);
      },
    );
  }
}

/** Acks or nacks on the channel a message came on; if that channel closed, the broker redelivers it anyway. */
function settle(act: () => void): void {
  try {
    act();
  } catch {
    // IllegalOperationError: the channel is gone (a reconnect); never on a new channel.
  }
}
