import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import { type ResourceAmounts, type TaskRecord, writtenWork } from "../../domain/records.js";
import type { StopListening, WorkListener } from "../work-signal.js";
import { OutboxWorkSignal } from "./outbox-work-signal.js";
import type { AmqpConnection } from "./amqp-connection.js";
import { ChannelSlot, settle } from "./channel-slot.js";
import { publishConfirmed } from "./confirmed-publish.js";
import { deadLetter } from "./dead-letter.js";
import { keepTrying } from "./keep-trying.js";
import { refusalOf, type VerifyMessage } from "./message-proof.js";
import { MessageRefused } from "./message-refused.js";
import { declareTopology, QUEUES } from "./topology.js";
import { WorkMessage } from "./work-relay.js";

/** How long a delivery that could not be claimed (the database away) waits before it goes back. */
const RETRY_MS = 1_000;
/** How long a delivery this worker can never take is held before it goes back for another worker. */
const PASS_ON_MS = 500;
/** Header counting how often a work message was passed on by workers that could not run it. */
export const PASSED_HEADER = "x-taskexec-passed";

export interface AmqpWorkSignalOptions {
  /** Claims these tasks for this worker (the store's `claimTasks`); returns those it got. */
  claim: (taskIds: readonly string[]) => Promise<TaskRecord[]>;
  /**
   * Whether this worker could ever take a task of `type` asking for `requirements` (it has the
   * handler, and the capacity); one it could not is passed on to the other workers.
   */
  accepts?: (type: string, requirements: ResourceAmounts) => boolean;
  /**
   * Which of these tasks are ready and claimed by no one (the store's record): a message this
   * worker cannot run is passed on only for those; one naming no such task is dropped.
   */
  ready?: (taskIds: readonly string[]) => Promise<Set<string>>;
  /** Checks that a work message was signed by an executor (the api or a worker); others are refused. */
  verify?: VerifyMessage | undefined;
  /** Deliveries held at once: the worker's `max_concurrent_tasks`. */
  prefetch: number;
  /** Woken when this process made work ready (it relays the outbox). */
  wake?: () => void;
  onError?: (error: unknown) => void;
}

interface Delivery {
  channel: Channel | ConfirmChannel;
  message: ConsumeMessage;
  taskId: string;
}

/**
 * The work signal of distributed mode, on a worker: consumes `taskexec.tasks`, claims the tasks
 * each turn's deliveries name in PostgreSQL, and hands those it got to its listeners as ready
 * work, claimed for this process (`handsOverClaimed`). A claimed task's delivery stays unacked
 * until the listener took it (started it, or let it go: `taken`), so the prefetch, tied to the
 * worker's `max_concurrent_tasks`, is what it holds and has not started; the claim, not the
 * delivery, fences the task (a worker that dies leaves a claim that lapses, and the task is handed
 * to the relay again). A delivery naming a task that finished, runs, or another worker holds is
 * acked and dropped; one for a task this worker could never take goes back to the queue after a
 * pause, for another worker; one that is not a work message is dead-lettered. When the claim
 * fails (the database away), the deliveries go back to the queue after a pause.
 *
 * Work made ready in this process (a retry due, a claim given back) goes through the outbox like
 * anyone's, which `ready` and `mayBeReady` wake the relay for (OutboxWorkSignal): it comes back
 * from the broker to whichever worker is free, claimed.
 */
export class AmqpWorkSignal extends OutboxWorkSignal {
  override readonly handsOverClaimed = true;
  readonly #options: AmqpWorkSignalOptions;
  readonly #report: (error: unknown) => void;
  readonly #slot = new ChannelSlot();
  #detach: (() => void) | undefined;
  /** Deliveries of this turn, claimed together. */
  #batch: Delivery[] = [];
  /** Deliveries this worker could never take, passed on together. */
  #passing: Delivery[] = [];
  /** Deliveries of tasks claimed and handed over, until the listener took them. */
  readonly #held = new Map<string, Delivery[]>();
  #consumerTag: string | undefined;

  private constructor(options: AmqpWorkSignalOptions) {
    const report = options.onError ?? (() => {});
    super(options.wake ?? (() => {}), report);
    this.#options = options;
    this.#report = report;
  }

  static async open(connection: AmqpConnection, options: AmqpWorkSignalOptions): Promise<AmqpWorkSignal> {
    const signal = new AmqpWorkSignal(options);
    signal.#detach = await connection.attach((model) => signal.#setup(model));
    return signal;
  }

  /**
   * Consumes while someone listens: once the last listener stops (the worker stops taking work),
   * the consumer is cancelled and what was delivered and not claimed goes back to the queue, so
   * that nothing is claimed for a worker that no longer takes work.
   */
  override async listen(listener: WorkListener): Promise<StopListening> {
    const stop = await super.listen(listener);
    const channel = this.#slot.current;
    if (this.listeners === 1 && channel !== undefined && this.#consumerTag === undefined)
      await this.#consume(channel);
    return async () => {
      await stop();
      if (this.listeners > 0) return;
      const tag = this.#consumerTag;
      this.#consumerTag = undefined;
      if (tag !== undefined) await this.#slot.current?.cancel(tag).catch(() => {});
    };
  }

  override taken(taskIds: readonly string[]): void {
    for (const taskId of taskIds) {
      const deliveries = this.#held.get(taskId);
      if (deliveries === undefined) continue;
      this.#held.delete(taskId);
      for (const { channel, message } of deliveries) settle(() => channel.ack(message));
    }
  }

  /** Whether `taskexec.tasks` holds no message waiting for a consumer (rejects while disconnected). */
  async carriesNoWork(): Promise<boolean> {
    const channel = this.#slot.current;
    if (channel === undefined) throw new Error("not connected to the broker");
    return (await channel.checkQueue(QUEUES.tasks)).messageCount === 0;
  }

  /** Claimed tasks handed over and not taken yet. */
  get holding(): number {
    return this.#held.size;
  }

  override async close(): Promise<void> {
    this.#detach?.();
    this.#held.clear(); // unacked: the broker hands them out again, and the claims say whose they are
    await this.#slot.close();
    await super.close();
  }

  async #setup(model: ChannelModel): Promise<void> {
    const channel = await this.#slot.open(model);
    // Deliveries held on the channel before are gone with it (the broker requeued them).
    this.#held.clear();
    await channel.prefetch(this.#options.prefetch);
    this.#consumerTag = undefined;
    if (this.listeners > 0) await this.#consume(channel);
    this.#slot.hold(channel);
  }

  async #consume(channel: ConfirmChannel): Promise<void> {
    const { consumerTag } = await channel.consume(QUEUES.tasks, (message) => {
      if (message !== null) this.#delivered(channel, message);
      else this.#cancelledByBroker(channel, consumerTag);
    });
    this.#consumerTag = consumerTag;
  }

  /**
   * The broker cancelled the consumer (its queue was deleted, or an operator cancelled it): the
   * topology is declared again and consuming resumes, so the worker never sits idle with work
   * waiting. Until then `consuming` is false (`/readyz` says so).
   */
  #cancelledByBroker(channel: ConfirmChannel, tag: string): void {
    if (this.#consumerTag !== tag) return;
    this.#consumerTag = undefined;
    this.#report(new Error("the broker cancelled this worker's consumer of taskexec.tasks; consuming again"));
    const again = async () => {
      if (this.listeners === 0 || this.#consumerTag !== undefined || this.#slot.current !== channel) return;
      await declareTopology(channel);
      await this.#consume(channel);
    };
    keepTrying(again, (error) => this.#report(error), RETRY_MS);
  }

  /** Whether it consumes `taskexec.tasks` (or has no listener, and should not). */
  get consuming(): boolean {
    return this.listeners === 0 || this.#consumerTag !== undefined;
  }

  #delivered(channel: ConfirmChannel, message: ConsumeMessage): void {
    const verify = this.#options.verify;
    if (verify === undefined) {
      this.#take(channel, message);
      return;
    }
    const { headers } = message.properties;
    refusalOf(verify, message.content, headers, { redelivered: message.fields.redelivered, work: true }).then(
      (refusal) => {
        if (refusal === undefined) {
          this.#take(channel, message);
          return;
        }
        // Forged or unsigned: no task is claimed, run or skipped for it.
        this.#report(new MessageRefused(QUEUES.tasks, refusal));
        deadLetter(channel, message, QUEUES.tasks, refusal).catch((e: unknown) => this.#report(e));
      },
      (error: unknown) => this.#report(error),
    );
  }

  #take(channel: ConfirmChannel, message: ConsumeMessage): void {
    let work: WorkMessage;
    try {
      work = WorkMessage.parse(JSON.parse(message.content.toString("utf8")));
    } catch {
      const reason = "not a work message (see ready_task in asyncapi.yaml)";
      this.#report(new MessageRefused(QUEUES.tasks, reason));
      deadLetter(channel, message, QUEUES.tasks, reason).catch((e: unknown) => this.#report(e));
      return;
    }
    const { task_id: taskId, type, requirements } = work;
    if (this.#options.accepts !== undefined && !this.#options.accepts(type, requirements)) {
      if (this.#passing.length === 0) setTimeout(() => this.#passOn(), PASS_ON_MS).unref();
      this.#passing.push({ channel, message, taskId });
      return;
    }
    if (this.#batch.length === 0) setImmediate(() => this.#claimBatch());
    this.#batch.push({ channel, message, taskId });
  }

  /**
   * Passes on what this worker could never run, at the back of the queue (priority 0), never at
   * its head where it would keep other work waiting (a flood of high-priority work no worker runs
   * must not starve the rest). A message naming no ready task (it ran, or never existed: a forged
   * one) is dropped instead; the store announces again any ready task whose message is lost.
   */
  #passOn(): void {
    const batch = this.#passing;
    this.#passing = [];
    const ids = [...new Set(batch.map((d) => d.taskId))];
    const ready = this.#options.ready?.(ids) ?? Promise.resolve(new Set(ids));
    ready
      .then(async (stillReady) => {
        const byChannel = new Map<ConfirmChannel, Delivery[]>();
        for (const delivery of batch) {
          if (!stillReady.has(delivery.taskId)) {
            settle(() => delivery.channel.ack(delivery.message));
            continue;
          }
          const channel = delivery.channel as ConfirmChannel;
          byChannel.set(channel, [...(byChannel.get(channel) ?? []), delivery]);
        }
        for (const [channel, deliveries] of byChannel) {
          await publishConfirmed(
            channel,
            deliveries.map(({ message }) => {
              const passed = Number(message.properties.headers?.[PASSED_HEADER] ?? 0) + 1;
              return {
                exchange: "",
                routingKey: QUEUES.tasks,
                content: message.content,
                options: {
                  ...message.properties,
                  persistent: true,
                  priority: 0,
                  headers: { ...message.properties.headers, [PASSED_HEADER]: passed },
                },
              };
            }),
          );
          for (const { message } of deliveries) settle(() => channel.ack(message));
        }
      })
      .catch((error: unknown) => {
        // Not passed on (the store or the broker away): back where they were, after a pause.
        this.#report(error);
        for (const { channel, message } of batch) settle(() => channel.nack(message, false, true));
      });
  }

  #claimBatch(): void {
    const batch = this.#batch;
    this.#batch = [];
    if (this.listeners === 0) {
      // Delivered as the consumer was cancelled: not this worker's to claim.
      for (const { channel, message } of batch) settle(() => channel.nack(message, false, true));
      return;
    }
    this.#options.claim([...new Set(batch.map((d) => d.taskId))]).then(
      (tasks) => {
        const claimed = new Set(tasks.map((t) => t.id));
        for (const delivery of batch) {
          if (!claimed.has(delivery.taskId)) {
            // Stale: the task finished, runs, or another worker holds it.
            settle(() => delivery.channel.ack(delivery.message));
            continue;
          }
          const held = this.#held.get(delivery.taskId);
          if (held === undefined) this.#held.set(delivery.taskId, [delivery]);
          else held.push(delivery);
        }
        // To this process's listeners only: the relay has nothing to do with claimed work.
        if (tasks.length > 0) this.heardWork(writtenWork(tasks));
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
