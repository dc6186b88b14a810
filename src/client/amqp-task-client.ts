import { decodeJwt, type JSONWebKeySet } from "jose";
import { v7 as timeOrderedId } from "uuid";
import type { TaskSnapshot } from "../engine/task-snapshot.js";
import type { HandlerTypeInfo } from "../handlers/registry.js";
import { isErrorCode } from "../protocol/error-codes.js";
import { TaskexecError, TaskRejectedError } from "../protocol/errors.js";
import type { ValidationIssue } from "../protocol/issues.js";
import { isTerminal } from "../protocol/states.js";
import type { TaskStatus } from "../protocol/task-status.js";
import { PROTOCOL_VERSION } from "../protocol/version.js";
import { AmqpConnection } from "../transport/amqp/amqp-connection.js";
import { executorSignatureCheck } from "../security/message-signature.js";
import { AmqpStatusBus } from "../transport/amqp/amqp-status-bus.js";
import type { VerifyMessage } from "../transport/amqp/message-proof.js";
import { ChannelSlot } from "../transport/amqp/channel-slot.js";
import { publishConfirmed } from "../transport/amqp/confirmed-publish.js";
import { EXCHANGES } from "../transport/amqp/topology.js";
import type { Unsubscribe } from "../transport/status-bus.js";
import { HttpTaskClient } from "./http-task-client.js";
import { StatusSequence } from "./status-sequence.js";
import { ClientEncryption, type ClientEncryptionOptions } from "./client-encryption.js";
import { toSubmitMessage } from "./submit-message.js";
import type {
  SubmitManyResult,
  SubmitRequest,
  SubmittedTask,
  TaskClientApi,
  TaskFilter,
  TaskPage,
} from "./task-client.js";

export interface AmqpTaskClientOptions extends ClientEncryptionOptions {
  /** The broker, e.g. `amqp://guest:guest@127.0.0.1:5672` (a vhost as its path). */
  url: string;
  /** A JWT (`taskexec token`): it goes in each message's `header.auth`, and its `sub` names the submitter. */
  token?: string | undefined;
  /**
   * The api's HTTP URL, for what the broker carries no message for: `get`, `list`, `types`, and
   * the history of a task this client did not submit.
   */
  api?: string | undefined;
  /**
   * The cluster's public keys (the JWKS `GET /v1/keys` serves): a status heard counts only when
   * the api or a worker signed it with one, so that whoever else can publish on the broker cannot
   * answer for them. Unset: fetched from `api` on connecting. With a token, one or the other is
   * needed; without (auth off, loopback), nothing is signed and nothing is checked.
   */
  keys?: JSONWebKeySet | undefined;
  /** How long a submission or cancel waits for its answer on `taskexec.status`. @default 30000 */
  answerTimeoutMs?: number;
  /** With `amqps://`: the broker's CA (else the system's), and a client certificate and key (PEM). */
  tls?: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string } | undefined;
}

/** With auth off, the api names every sender so; the routing keys of their statuses start with it. */
const ANONYMOUS = "anonymous";
/** How long the statuses of a finished task submitted here are kept for a `watch` that comes late. */
const KEEP_FINISHED_MS = 60_000;

interface Answer {
  status: TaskStatus;
  duplicate: boolean;
}

interface Waiting {
  resolve: (answer: Answer) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
  /** A submission (its task's statuses are kept from its answer on), or a cancel. */
  submission: boolean;
}

interface Opened {
  connection: AmqpConnection;
  bus: AmqpStatusBus;
  publisher: ChannelSlot;
  close: () => Promise<void>;
}

/**
 * The client of a taskexec cluster over its broker (distributed mode, SPEC §4): `submit_task`
 * and `cancel_task` are published to `taskexec.submit` with the token in `header.auth`, persistent
 * and confirmed, and answered on `taskexec.status`, where this client's queue is bound to its
 * submitter's statuses (`<submitter>.*`: acceptances, rejections, and every status of its tasks).
 * `watch` replays what was heard of a task submitted here and goes on live, in sequence order.
 * The broker carries no queries: `get`, `list` and `types` go to the api over HTTP (`api`).
 *
 * It connects on the first call, and reconnects by itself (amqplib's recovery); a message
 * published is in the broker once its call goes on, and is answered when an api takes it.
 */
export class AmqpTaskClient implements TaskClientApi {
  readonly #url: string;
  readonly #token: string | undefined;
  readonly #submitter: string;
  readonly #answerTimeoutMs: number;
  readonly #http: HttpTaskClient | undefined;
  readonly #keys: JSONWebKeySet | undefined;
  readonly #tls: AmqpTaskClientOptions["tls"];
  /** Message-level encryption, when asked for (undefined: none, and no cost). */
  readonly #encryption: ClientEncryption | undefined;
  #opened: Promise<Opened> | undefined;
  #closed = false;
  /** Submissions and cancels waiting for their answer, by message id. */
  readonly #waiting = new Map<string, Waiting>();
  /** What was heard of the tasks submitted here, until a while after they end. */
  readonly #heard = new Map<string, TaskStatus[]>();
  /** Watches of tasks submitted here, fed as their statuses are heard. */
  readonly #watching = new Map<string, Set<StatusSequence>>();

  constructor(options: AmqpTaskClientOptions) {
    if (!URL.canParse(options.url) || !/^amqps?:$/.test(new URL(options.url).protocol))
      throw new TypeError(
        `the broker URL must start with amqp:// or amqps://, got ${JSON.stringify(options.url)}`,
      );
    this.#url = options.url;
    this.#token = options.token;
    this.#submitter = options.token === undefined ? ANONYMOUS : subjectOf(options.token);
    this.#answerTimeoutMs = options.answerTimeoutMs ?? 30_000;
    this.#http =
      options.api === undefined
        ? undefined
        : new HttpTaskClient({ url: options.api, token: options.token, resultKey: options.resultKey });
    this.#keys = options.keys;
    this.#tls = options.tls;
    const encryption = new ClientEncryption(
      async () => (this.#keys ?? (await this.#api("encrypt").keys())).keys,
      options,
    );
    this.#encryption = encryption.active ? encryption : undefined;
    if (options.token !== undefined && options.keys === undefined && options.api === undefined)
      throw new TypeError(
        "a client with a token checks that the statuses it hears were signed by the cluster: " +
          "pass the api's HTTP URL (`api`, whose /v1/keys has the keys) or the keys themselves (`keys`)",
      );
    if (options.encrypt === true && options.keys === undefined && options.api === undefined)
      throw new TypeError(
        "a client that encrypts needs the executors' keys: pass the api's HTTP URL (`api`) or the keys themselves (`keys`)",
      );
  }

  async submit(request: SubmitRequest): Promise<SubmittedTask> {
    const [result] = await this.submitMany([request]);
    if (result!.ok) return result!;
    const { code, message, issues } = result!.error;
    const known = isErrorCode(code) ? code : "validation_failed";
    if (Array.isArray(issues) && issues.length > 0)
      throw new TaskRejectedError(known, issues as ValidationIssue[]);
    throw new TaskexecError(known, message);
  }

  /** Publishes all, confirmed together; each is answered on its own (one bad one spoils nothing). */
  async submitMany(requests: readonly SubmitRequest[]): Promise<SubmitManyResult[]> {
    this.#checkToken();
    const now = new Date();
    let messages = requests.map((request) => this.#signed(toSubmitMessage(request, now)));
    const encryption = this.#encryption;
    if (encryption !== undefined) messages = await Promise.all(messages.map((m) => encryption.seal(m)));
    const answers = messages.map((m) => this.#answer(m.header.message_id, true));
    try {
      await this.#publish("submit_task", messages);
      return (await Promise.all(answers)).map(({ status, duplicate }): SubmitManyResult => {
        if (status.header.task_id !== null) return { ok: true, id: status.header.task_id, status, duplicate };
        const error = status.body.details?.error;
        return {
          ok: false,
          id: null,
          status,
          error: {
            code: error?.code ?? "validation_failed",
            message: error?.message ?? "rejected",
            issues: status.body.details?.errors,
          },
        };
      });
    } finally {
      for (const m of messages) this.#forget(m.header.message_id);
    }
  }

  /**
   * Publishes a `cancel_task`; resolves to the task's terminal status (its cancellation, or how
   * it ended before). A cancel the api refuses (no such task of this submitter's) throws its code.
   */
  async cancel(id: string, reason?: string): Promise<TaskStatus> {
    this.#checkToken();
    const { bus } = await this.#open();
    const message = this.#signed({
      type: "cancel_task" as const,
      header: {
        message_id: timeOrderedId(),
        timestamp: new Date().toISOString(),
        protocol_version: PROTOCOL_VERSION,
      },
      body: reason === undefined ? { task_id: id } : { task_id: id, reason },
    });
    let ended: (status: TaskStatus) => void = () => {};
    const terminal = new Promise<TaskStatus>((resolve) => (ended = resolve));
    const unsubscribe = await bus.subscribe(id, (status) => {
      if (isTerminal(status.body.status)) ended(status);
    });
    try {
      const refused = this.#answer(message.header.message_id, false);
      await this.#publish("cancel_task", [message]);
      const outcome = await Promise.race([terminal, refused.then(({ status }) => status)]);
      if (outcome.header.task_id === null) throw refusal(outcome);
      return this.#encryption === undefined ? outcome : this.#encryption.openStatus(outcome);
    } finally {
      this.#forget(message.header.message_id);
      unsubscribe();
    }
  }

  /**
   * The task's statuses in order, ending with its terminal status: for a task submitted here,
   * what was heard since its answer and then live; for another, over HTTP when `api` is given,
   * or live from now on (the broker keeps no history).
   */
  async *watch(
    id: string,
    options: { afterSequence?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<TaskStatus> {
    const history = this.#heard.get(id);
    if (history === undefined && this.#http !== undefined) {
      yield* this.#http.watch(id, options);
      return;
    }
    const sequence = new StatusSequence(options.afterSequence ?? 0);
    const abort = () => sequence.end();
    options.signal?.addEventListener("abort", abort);
    let unsubscribe: Unsubscribe;
    if (history !== undefined) {
      let watchers = this.#watching.get(id);
      if (watchers === undefined) this.#watching.set(id, (watchers = new Set()));
      watchers.add(sequence);
      for (const status of history) sequence.add(status);
      const set = watchers;
      unsubscribe = () => {
        set.delete(sequence);
        if (set.size === 0) this.#watching.delete(id);
      };
    } else {
      unsubscribe = await (await this.#open()).bus.subscribe(id, (status) => sequence.add(status));
    }
    try {
      if (!options.signal?.aborted)
        yield* this.#encryption === undefined ? sequence : this.#encryption.openAll(sequence);
    } finally {
      options.signal?.removeEventListener("abort", abort);
      unsubscribe();
    }
  }

  async get(id: string): Promise<TaskSnapshot> {
    return this.#api("get").get(id);
  }

  async list(filter?: TaskFilter): Promise<TaskPage> {
    return this.#api("list").list(filter);
  }

  async types(): Promise<HandlerTypeInfo[]> {
    return this.#api("types").types();
  }

  /** Closes the broker connection; calls still waiting for an answer fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [messageId, waiting] of this.#waiting) {
      this.#forget(messageId);
      waiting.reject(
        new TaskexecError("resource_unavailable", "the client was closed before the answer came"),
      );
    }
    const opened = this.#opened;
    this.#opened = undefined;
    await opened?.then((o) => o.close()).catch(() => {});
    await this.#http?.close();
  }

  #api(call: string): HttpTaskClient {
    if (this.#http === undefined)
      throw new TypeError(
        `${call}() needs the api's HTTP URL: the broker carries submissions, cancels and statuses, ` +
          `not queries (pass \`api: "http://…"\` with the broker's \`url\`)`,
      );
    return this.#http;
  }

  /** An expired token would be dead-lettered unanswered: say so now instead of after the timeout. */
  #checkToken(): void {
    if (this.#token === undefined) return;
    const { exp } = decodeJwt(this.#token);
    if (exp !== undefined && exp * 1000 <= Date.now())
      throw new TaskexecError(
        "unauthenticated",
        `the token expired at ${new Date(exp * 1000).toISOString()}`,
      );
  }

  #signed<M extends { header: Record<string, unknown> }>(message: M): M {
    return this.#token === undefined
      ? message
      : { ...message, header: { ...message.header, auth: this.#token } };
  }

  /** Waits for the answer to a message: the first status naming it as its reference. */
  #answer(messageId: string, submission: boolean): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#forget(messageId);
        reject(
          new TaskexecError(
            "resource_unavailable",
            `no answer on taskexec.status within ${this.#answerTimeoutMs} ms: the message is in the broker ` +
              `and is answered once an api takes it (one whose token the api refuses is dead-lettered unanswered)`,
          ),
        );
      }, this.#answerTimeoutMs);
      this.#waiting.set(messageId, { submission, resolve, reject, timer });
    });
  }

  /** Stops waiting for a message's answer (it came, or no one waits for it any more). */
  #forget(messageId: string): void {
    clearTimeout(this.#waiting.get(messageId)?.timer);
    this.#waiting.delete(messageId);
  }

  /** A status of this submitter's: an answer, and a status of a task submitted here. */
  #heardStatus(status: TaskStatus, duplicate: boolean): void {
    const { reference_id: reference, task_id: taskId } = status.header;
    const waiting = this.#waiting.get(reference);
    if (waiting !== undefined && (waiting.submission || taskId === null)) {
      this.#forget(reference);
      // A new task's statuses are kept for its watch (a duplicate's history is the api's to give).
      if (waiting.submission && taskId !== null && !duplicate) this.#heard.set(taskId, []);
      waiting.resolve({ status, duplicate });
    }
    if (taskId === null) return;
    const history = this.#heard.get(taskId);
    if (history === undefined) return;
    history.push(status);
    for (const sequence of this.#watching.get(taskId) ?? []) sequence.add(status);
    if (isTerminal(status.body.status))
      setTimeout(() => this.#heard.delete(taskId), KEEP_FINISHED_MS).unref();
  }

  async #publish(
    type: "submit_task" | "cancel_task",
    messages: readonly { header: { message_id: string } }[],
  ) {
    const { publisher } = await this.#open();
    const channel = await this.#channel(publisher);
    await publishConfirmed(
      channel,
      messages.map((message) => ({
        exchange: EXCHANGES.submit,
        routingKey: type,
        content: Buffer.from(JSON.stringify(message)),
        options: {
          persistent: true,
          contentType: "application/json",
          type,
          messageId: message.header.message_id,
        },
      })),
    );
  }

  /** The publisher's channel, waiting (up to the answer timeout) while the broker is away. */
  async #channel(slot: ChannelSlot) {
    const until = Date.now() + this.#answerTimeoutMs;
    for (;;) {
      const channel = slot.current;
      if (channel !== undefined) return channel;
      if (this.#closed) throw new TaskexecError("resource_unavailable", "the client was closed");
      if (Date.now() > until) throw this.#unreachable(new Error("the connection was lost and is not back"));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  #open(): Promise<Opened> {
    if (this.#closed)
      return Promise.reject(new TaskexecError("resource_unavailable", "the client was closed"));
    this.#opened ??= this.#connect().catch((error: unknown) => {
      this.#opened = undefined; // the next call tries again
      throw error instanceof TaskexecError ? error : this.#unreachable(error);
    });
    return this.#opened;
  }

  async #connect(): Promise<Opened> {
    const verify = this.#token === undefined ? undefined : await this.#verifier();
    const connection = await AmqpConnection.open({ url: this.#url, name: "taskexec client", tls: this.#tls });
    try {
      const bus = await AmqpStatusBus.open(connection, { verify, deadLetters: false });
      const stopListening = await bus.listenSubmitter(this.#submitter, (status, duplicate) =>
        this.#heardStatus(status, duplicate),
      );
      const publisher = new ChannelSlot();
      const detach = await connection.attach(async (model) => publisher.hold(await publisher.open(model)));
      return {
        connection,
        bus,
        publisher,
        close: async () => {
          detach();
          stopListening();
          await publisher.close();
          await bus.close();
          await connection.close();
        },
      };
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  /** Checks a status was signed by the api or a worker (an executor), with the cluster's keys. */
  async #verifier(): Promise<VerifyMessage> {
    const keys = this.#keys ?? (await this.#http!.keys());
    if (keys.keys.length === 0)
      throw new TaskexecError(
        "unauthenticated",
        "the api serves no keys to check the statuses on the broker with (is its auth off?)",
      );
    return executorSignatureCheck(keys);
  }

  #unreachable(error: unknown): TaskexecError {
    const host = URL.canParse(this.#url) ? new URL(this.#url).host : this.#url;
    const reason = error instanceof Error ? error.message : String(error);
    return new TaskexecError("resource_unavailable", `cannot reach the broker at ${host} (${reason})`, {
      cause: error,
    });
  }
}

/** The submitter a token names (its `sub`), as the api routes its statuses. */
function subjectOf(token: string): string {
  let sub: unknown;
  try {
    sub = decodeJwt(token).sub;
  } catch {
    throw new TypeError("the token is not a JWT (mint one with `taskexec token`)");
  }
  if (typeof sub !== "string" || sub === "") throw new TypeError("the token names no subject (`sub`)");
  return sub;
}

/** The error a `rejected` answer to a message says. */
function refusal(status: TaskStatus): TaskexecError {
  const error = status.body.details?.error;
  const code = isErrorCode(error?.code) ? error.code : "validation_failed";
  return new TaskexecError(code, error?.message ?? "refused");
}
