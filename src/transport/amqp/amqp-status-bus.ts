import { randomUUID } from "node:crypto";
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import type { ObservedStatus } from "../../domain/records.js";
import { TaskStatus } from "../../protocol/task-status.js";
import type { RoutedStatus, StatusBus, StatusListener, Unsubscribe } from "../status-bus.js";
import type { AmqpConnection } from "./amqp-connection.js";
import { settle } from "./channel-slot.js";
import { publishConfirmed } from "./confirmed-publish.js";
import type { SignMessage, VerifyMessage } from "./message-proof.js";
import { deadLetter } from "./dead-letter.js";
import { MessageRefused } from "./message-refused.js";
import { EXCHANGES, submitterOfWord, submitterWord } from "./topology.js";

export interface AmqpStatusBusOptions {
  /** Told of listener errors, and of messages it refused. */
  onError?: (error: unknown) => void;
  /**
   * Signs a status, given its JSON without `header.auth`: the signature goes in its header.auth,
   * proof of origin bound to that one message, never a credential a reader could use elsewhere.
   */
  sign?: SignMessage | undefined;
  /** Whether a received status's signature is an executor's, of its JSON less the signature; others are refused. */
  verify?: VerifyMessage | undefined;
  /**
   * Whether what it refuses goes to `taskexec.dlx` (true, the default), or is only acked and
   * reported: a client's broker user may not publish there (`taskexec broker grant`).
   */
  deadLetters?: boolean;
  /** Statuses held in memory while the broker is away (default {@link MAX_WAITING}); more are dropped. */
  maxWaiting?: number;
  /**
   * Called once the broker is back when statuses were dropped while it was away: `since` is when
   * the first was dropped (the process tells the ends again from the store, see tellEndsAgain).
   */
  afterDropping?: (since: number, dropped: number) => void;
}

/** Statuses held in memory while the broker is away, by default (a few MB). */
export const MAX_WAITING = 10_000;

/**
 * `<submitter>.<task_id>`; a rejected submission, which never became a task, `<submitter>.rejected`.
 * The submitter is one word (dots and wildcards encoded, see submitterWord).
 */
const routingKey = (submitter: string, status: TaskStatus) =>
  `${submitterWord(submitter)}.${status.header.task_id ?? "rejected"}`;
/** The task's facts travel as headers (RoutedStatus.task), for observers elsewhere. */
export const FACT_HEADERS = {
  type: "x-taskexec-task-type",
  createdAt: "x-taskexec-created-at",
  startedAt: "x-taskexec-started-at",
} as const;
/** Marks a submission's answer that names an existing task (RoutedStatus.duplicate). */
export const DUPLICATE_HEADER = "x-taskexec-duplicate";
/** Binds every status, whoever submitted the task. */
const ALL = "#";
/** Binds one task's statuses: routing keys are `<submitter>.<task_id>`. */
const taskKey = (taskId: string) => `*.${taskId}`;
/** Binds one submitter's statuses and rejections. */
const submitterKey = (submitter: string) => `${submitterWord(submitter)}.*`;

/** Hears one submitter's statuses, and whether each answers a duplicate submission. */
export type SubmitterListener = (status: TaskStatus, duplicate: boolean) => void;

/**
 * The StatusBus over RabbitMQ: statuses are published, persistent and confirmed, to the
 * `taskexec.status` topic exchange with routing key `<submitter>.<task_id>`; this process's
 * listeners hear them at once, and those of other processes through a queue of this bus's own
 * (exclusive, gone with the connection), bound to the keys its listeners want: `#` for
 * `subscribeAll`, `#.<task_id>` per task. Its own messages coming back through that queue are
 * dropped (they were delivered at publish). After a reconnect the channels, the queue and its
 * bindings are made again; what was published meanwhile to other processes is not heard, and
 * watchers read it from the store.
 *
 * While the broker is away, statuses to publish wait in memory for it, up to `maxWaiting`; past
 * that they are dropped (they are in the store), so that a long outage under submissions cannot
 * exhaust the process's memory, and `afterDropping` is called once it is back.
 */
export class AmqpStatusBus implements StatusBus {
  readonly reachesOthers = true;
  /** Names this bus in the messages it publishes (`appId`), to drop its own when they come back. */
  readonly #id = randomUUID();
  readonly #byTask = new Map<string, Set<StatusListener>>();
  readonly #all = new Set<StatusListener>();
  /** Listeners to what other processes publish, with the tasks' facts. */
  readonly #others = new Set<(observed: ObservedStatus) => void>();
  /** Listeners to submitters' statuses (a client of the broker: its answers and its tasks'). */
  readonly #bySubmitter = new Map<string, Set<SubmitterListener>>();
  readonly #onError: (error: unknown) => void;
  readonly #sign: SignMessage | undefined;
  readonly #verify: VerifyMessage | undefined;
  readonly #deadLetters: boolean;
  #publisher: ConfirmChannel | undefined;
  /** The check of the last message received: the next one's waits for it. */
  #inOrder: Promise<void> = Promise.resolve();
  #consumer: Channel | undefined;
  #queue: string | undefined;
  /** Settles once a channel to publish on is there again. */
  #ready: Promise<void>;
  #markReady: () => void = () => {};
  #detach: (() => void) | undefined;
  readonly #maxWaiting: number;
  readonly #afterDropping: ((since: number, dropped: number) => void) | undefined;
  /** Statuses waiting for a channel to publish on. */
  #waiting = 0;
  /** Statuses dropped since the broker went away, and when the first was. */
  #dropped = 0;
  #droppedSince: number | undefined;

  private constructor(options: AmqpStatusBusOptions) {
    this.#onError = options.onError ?? (() => {});
    this.#sign = options.sign;
    this.#verify = options.verify;
    this.#deadLetters = options.deadLetters ?? true;
    this.#maxWaiting = options.maxWaiting ?? MAX_WAITING;
    this.#afterDropping = options.afterDropping;
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  /** Resolves once its channels and queue are there. */
  static async open(connection: AmqpConnection, options: AmqpStatusBusOptions = {}): Promise<AmqpStatusBus> {
    const bus = new AmqpStatusBus(options);
    bus.#detach = await connection.attach((model) => bus.#setup(model));
    return bus;
  }

  async publish(statuses: readonly RoutedStatus[]): Promise<void> {
    for (const { status } of statuses) this.#deliver(status);
    if (statuses.length === 0) return;
    if (this.#publisher === undefined && this.#waiting + statuses.length > this.#maxWaiting) {
      this.#drop(statuses.length);
      return;
    }
    this.#waiting += statuses.length;
    let bodies: string[];
    try {
      // Signed as they go out, not as they start waiting: a signature lasts the readers' window,
      // and a broker away longer than that must not have them refused when it is back.
      do {
        await this.#ready;
        bodies = await Promise.all(statuses.map(({ status }) => this.#signed(status)));
      } while (this.#publisher === undefined); // the broker went while they were signed
    } finally {
      this.#waiting -= statuses.length;
    }
    const messages = statuses.map(({ submitter, status, task, duplicate }, i) => {
      const headers: Record<string, string | number> = task === undefined ? {} : factHeaders(task);
      if (duplicate === true) headers[DUPLICATE_HEADER] = 1;
      return {
        exchange: EXCHANGES.status,
        routingKey: routingKey(submitter, status),
        content: Buffer.from(bodies[i]!),
        options: {
          persistent: true,
          contentType: "application/json",
          type: "task_status",
          appId: this.#id,
          headers,
        },
      };
    });
    await publishConfirmed(this.#publisher, messages);
  }

  /** The status as it goes on the broker: its JSON, with its signature in header.auth when signing. */
  async #signed(status: TaskStatus): Promise<string> {
    const { auth: _none, ...header } = status.header;
    const unsigned = JSON.stringify({ ...status, header });
    if (this.#sign === undefined) return unsigned;
    const auth = await this.#sign(unsigned);
    // The signature goes last in the header: the reader takes it out and finds the same bytes.
    return JSON.stringify({ ...status, header: { ...header, auth } });
  }

  async subscribe(taskId: string, listener: StatusListener): Promise<Unsubscribe> {
    let listeners = this.#byTask.get(taskId);
    if (listeners === undefined) {
      listeners = new Set();
      this.#byTask.set(taskId, listeners);
      await this.#bind(taskKey(taskId));
    }
    const set = listeners;
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size > 0 || this.#byTask.get(taskId) !== set) return;
      this.#byTask.delete(taskId);
      this.#unbind(taskKey(taskId));
    };
  }

  async subscribeAll(listener: StatusListener): Promise<Unsubscribe> {
    const first = !this.#bindsAll();
    this.#all.add(listener);
    if (first) await this.#bind(ALL);
    return () => {
      if (this.#all.delete(listener) && !this.#bindsAll()) this.#unbind(ALL);
    };
  }

  /**
   * Listens to the statuses other processes publish, each with its submitter and its task's
   * facts (a status published without them, a rejection, is not passed on): what the observers
   * of a process that runs no tasks (`taskexec api`) count.
   */
  async listenOthers(listener: (observed: ObservedStatus) => void): Promise<Unsubscribe> {
    const first = !this.#bindsAll();
    this.#others.add(listener);
    if (first) await this.#bind(ALL);
    return () => {
      if (this.#others.delete(listener) && !this.#bindsAll()) this.#unbind(ALL);
    };
  }

  /**
   * Listens to the statuses of one submitter's tasks, and to the rejections of its submissions
   * (`<submitter>.*`): what a submitter's client hears its answers on.
   */
  async listenSubmitter(submitter: string, listener: SubmitterListener): Promise<Unsubscribe> {
    let listeners = this.#bySubmitter.get(submitter);
    if (listeners === undefined) {
      listeners = new Set();
      this.#bySubmitter.set(submitter, listeners);
      await this.#bind(submitterKey(submitter));
    }
    const set = listeners;
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size > 0 || this.#bySubmitter.get(submitter) !== set) return;
      this.#bySubmitter.delete(submitter);
      this.#unbind(submitterKey(submitter));
    };
  }

  #drop(count: number): void {
    if (this.#droppedSince === undefined) {
      this.#droppedSince = Date.now();
      this.#onError(
        new Error(
          `the broker is away and ${this.#waiting} statuses wait for it: the next are dropped from memory until it is back (the store keeps them; their ends are told again then)`,
        ),
      );
    }
    this.#dropped += count;
  }

  #bindsAll(): boolean {
    return this.#all.size > 0 || this.#others.size > 0;
  }

  async close(): Promise<void> {
    this.#detach?.();
    await this.#consumer?.close().catch(() => {});
    await this.#publisher?.close().catch(() => {});
    this.#consumer = this.#publisher = undefined;
  }

  /** On every (re)connect: the channels, this bus's queue, and the bindings its listeners want. */
  async #setup(model: ChannelModel): Promise<void> {
    const publisher = await model.createConfirmChannel();
    const consumer = await model.createChannel();
    const { queue } = await consumer.assertQueue("", { exclusive: true, autoDelete: true });
    for (const key of this.#keys()) await consumer.bindQueue(queue, EXCHANGES.status, key);
    await consumer.consume(queue, (message) => {
      if (message !== null) this.#heard(consumer, publisher, queue, message);
    });
    const lost = () => {
      if (this.#publisher !== publisher) return;
      this.#publisher = this.#consumer = this.#queue = undefined;
      this.#ready = new Promise((resolve) => (this.#markReady = resolve));
    };
    publisher.on("close", lost);
    consumer.on("close", lost);
    this.#publisher = publisher;
    this.#consumer = consumer;
    this.#queue = queue;
    this.#markReady();
    if (this.#droppedSince !== undefined) {
      const [since, dropped] = [this.#droppedSince, this.#dropped];
      this.#droppedSince = undefined;
      this.#dropped = 0;
      this.#afterDropping?.(since, dropped);
    }
  }

  *#keys(): Generator<string> {
    if (this.#bindsAll()) yield ALL;
    for (const taskId of this.#byTask.keys()) yield taskKey(taskId);
    for (const submitter of this.#bySubmitter.keys()) yield submitterKey(submitter);
  }

  async #bind(key: string): Promise<void> {
    await this.#ready;
    await this.#consumer!.bindQueue(this.#queue!, EXCHANGES.status, key);
  }

  #unbind(key: string): void {
    const consumer = this.#consumer;
    if (consumer === undefined) return; // gone with the connection; not bound again after it
    consumer.unbindQueue(this.#queue!, EXCHANGES.status, key).catch((error: unknown) => this.#onError(error));
  }

  #heard(channel: Channel, publisher: ConfirmChannel, queue: string, message: ConsumeMessage): void {
    if (message.properties.appId === this.#id) {
      settle(() => channel.ack(message));
      return;
    }
    // Checked one after the other, so that each task's statuses are delivered in the order they came.
    const checked = this.#inOrder.then(() => this.#check(message));
    this.#inOrder = checked.then(
      () => {},
      () => {},
    );
    checked.then(
      (status) => {
        settle(() => channel.ack(message));
        this.#deliver(status);
        if (this.#bySubmitter.size > 0) this.#tellSubmitter(status, message);
        if (this.#others.size > 0) this.#tellOthers(status, message);
      },
      (error: unknown) => {
        // Not a status, or not from an executor: dead-lettered with why, never delivered.
        const reason = (error as Error).message;
        this.#onError(new MessageRefused(EXCHANGES.status, reason));
        if (!this.#deadLetters) settle(() => channel.ack(message));
        else deadLetter(publisher, message, queue, reason, channel).catch((e: unknown) => this.#onError(e));
      },
    );
  }

  /** The status a message holds, once its sender is known to be an executor (when verifying). */
  async #check(message: ConsumeMessage): Promise<TaskStatus> {
    let raw: { header?: { auth?: unknown } };
    let status: TaskStatus;
    try {
      raw = JSON.parse(message.content.toString("utf8")) as { header?: { auth?: unknown } };
      status = TaskStatus.parse(raw);
    } catch {
      throw new Error("not a task_status");
    }
    const { auth, ...header } = status.header;
    if (this.#verify !== undefined) {
      if (auth === undefined)
        throw new Error("unauthenticated: header.auth must hold an executor's signature");
      // The bytes as sent, less the signature (parsing keeps the sender's key order).
      delete raw.header!.auth;
      const redelivered = message.fields.redelivered;
      if (!(await this.#verify(auth, JSON.stringify(raw), { redelivered }).catch(() => false)))
        throw new Error("unauthenticated: header.auth is not an executor's valid signature of this status");
    }
    // The signature is for the broker's readers, not for whoever watches the task.
    return { ...status, header };
  }

  #deliver(status: TaskStatus): void {
    const taskId = status.header.task_id;
    const listeners = taskId === null ? undefined : this.#byTask.get(taskId);
    if (listeners) for (const listener of listeners) this.#call(listener, status);
    for (const listener of this.#all) this.#call(listener, status);
  }

  #tellSubmitter(status: TaskStatus, message: ConsumeMessage): void {
    const listeners = this.#bySubmitter.get(submitterOf(message.fields.routingKey));
    if (listeners === undefined) return;
    const duplicate = message.properties.headers?.[DUPLICATE_HEADER] === 1;
    for (const listener of listeners) {
      try {
        listener(status, duplicate);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  #tellOthers(status: TaskStatus, message: ConsumeMessage): void {
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const type = headers[FACT_HEADERS.type];
    const createdAt = headers[FACT_HEADERS.createdAt];
    const startedAt = headers[FACT_HEADERS.startedAt];
    if (typeof type !== "string" || typeof createdAt !== "number" || status.header.task_id === null) return;
    const observed: ObservedStatus = {
      status,
      submitter: submitterOf(message.fields.routingKey),
      type,
      createdAt,
      startedAt: typeof startedAt === "number" ? startedAt : null,
    };
    for (const listener of this.#others) {
      try {
        listener(observed);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  #call(listener: StatusListener, status: TaskStatus): void {
    try {
      listener(status);
    } catch (error) {
      this.#onError(error);
    }
  }
}

/** The submitter a routing key names: its first word. */
function submitterOf(key: string): string {
  return submitterOfWord(key.slice(0, key.indexOf(".")));
}

function factHeaders(task: NonNullable<RoutedStatus["task"]>): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    [FACT_HEADERS.type]: task.type,
    [FACT_HEADERS.createdAt]: task.createdAt,
  };
  if (task.startedAt !== null) headers[FACT_HEADERS.startedAt] = task.startedAt;
  return headers;
}
