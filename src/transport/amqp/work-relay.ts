import type { ChannelModel } from "amqplib";
import { z } from "zod";
import type { ReadyWorkEntry } from "../../domain/records.js";
import type { AmqpConnection } from "./amqp-connection.js";
import { ChannelSlot } from "./channel-slot.js";
import { publishConfirmed } from "./confirmed-publish.js";
import { SIGNATURE_HEADER, type SignMessage } from "./message-proof.js";
import { MAX_PRIORITY, QUEUES } from "./topology.js";

/** Hands a batch of the outbox to `send`; resolves to how many (the store's `forwardReadyWork`). */
export type ForwardReadyWork = (
  limit: number,
  send: (entries: readonly ReadyWorkEntry[]) => Promise<void>,
) => Promise<number>;

/**
 * The body of a `taskexec.tasks` message: the task to claim (its record is in PostgreSQL), and
 * what a worker needs to decide whether it could ever take it (SPEC §4).
 */
export const WorkMessage = z.object({
  task_id: z.string().min(1).describe("The task to claim in PostgreSQL."),
  priority: z.int().min(0).describe("The task's priority (also the message's)."),
  type: z.string().min(1).describe("The task's type: a worker without its handler passes it on."),
  requirements: z
    .record(z.string(), z.number().min(0))
    .describe("What the task asks for: a worker that could never fit it passes it on."),
});
export type WorkMessage = z.infer<typeof WorkMessage>;

const BATCH = 500;

/**
 * The relay of the transactional outbox (distributed mode): takes the ready work the store wrote
 * in the same statement that made each task ready, publishes it to `taskexec.tasks` (persistent,
 * with the task's priority, confirmed as a batch), and only then lets the store remove it. A
 * crash or a broker away leaves the entries in the outbox, to be published on the next pass, so
 * no ready task is ever left unannounced; one may be announced twice, which workers tolerate
 * (they claim it in PostgreSQL, fenced). It runs when woken (new work written here) and every
 * `pollMs` (work written by other processes, or a pass that failed).
 */
export class WorkRelay {
  readonly #forward: ForwardReadyWork;
  readonly #sign: SignMessage | undefined;
  readonly #pollMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #slot = new ChannelSlot();
  #detach: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  private constructor(
    forward: ForwardReadyWork,
    sign: SignMessage | undefined,
    pollMs: number,
    onError: (error: unknown) => void,
  ) {
    this.#forward = forward;
    this.#sign = sign;
    this.#pollMs = pollMs;
    this.#onError = onError;
  }

  static async start(
    connection: AmqpConnection,
    options: {
      forward: ForwardReadyWork;
      /** Signs each work message (in {@link SIGNATURE_HEADER}): workers take only signed work. */
      sign?: SignMessage | undefined;
      pollMs: number;
      onError?: (error: unknown) => void;
    },
  ): Promise<WorkRelay> {
    const relay = new WorkRelay(options.forward, options.sign, options.pollMs, options.onError ?? (() => {}));
    relay.#detach = await connection.attach((model) => relay.#setup(model));
    relay.wake();
    return relay;
  }

  /** Work was written: relay it now (a pass in flight is followed by another). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#pass().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.wake();
      } else if (!this.#stopped) {
        this.#timer = setTimeout(() => this.wake(), this.#pollMs * (0.75 + Math.random() / 2));
      }
    });
  }

  /** Resolves once the pass in flight, if any, is over. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.idle();
    this.#detach?.();
    await this.#slot.close();
  }

  async #setup(model: ChannelModel): Promise<void> {
    this.#slot.hold(await this.#slot.open(model));
    this.wake(); // what waited while the broker was away
  }

  async #pass(): Promise<void> {
    try {
      while (!this.#stopped && (await this.#forward(BATCH, (entries) => this.#publish(entries))) === BATCH);
    } catch (error) {
      this.#onError(error);
    }
  }

  async #publish(entries: readonly ReadyWorkEntry[]): Promise<void> {
    const messages = entries.map(({ taskId, priority, type, requirements }) => {
      const body: WorkMessage = { task_id: taskId, priority, type, requirements };
      return { taskId, priority, content: Buffer.from(JSON.stringify(body)) };
    });
    const sign = this.#sign;
    const signatures =
      sign === undefined ? [] : await Promise.all(messages.map((m) => sign(m.content, { work: true })));
    const channel = this.#slot.current;
    if (channel === undefined) throw new Error("not connected to the broker; the outbox keeps the work");
    await publishConfirmed(
      channel,
      messages.map(({ taskId, priority, content }, i) => {
        const signature = signatures[i];
        return {
          exchange: "",
          routingKey: QUEUES.tasks,
          content,
          options: {
            persistent: true,
            priority: Math.max(0, Math.min(MAX_PRIORITY, priority)),
            contentType: "application/json",
            type: "ready_task",
            messageId: taskId,
            ...(signature !== undefined && { headers: { [SIGNATURE_HEADER]: signature } }),
          },
        };
      }),
    );
  }
}
