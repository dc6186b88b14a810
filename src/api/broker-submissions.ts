import type { ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import secureJson from "secure-json-parse";
import { rejectionStatus } from "../engine/status-changes.js";
import type { TaskExecutor } from "../engine/task-executor.js";
import type { Logger } from "../observability/logger.js";
import { isErrorCode } from "../protocol/error-codes.js";
import { TaskexecError } from "../protocol/errors.js";
import { type AuthenticatedPrincipal, authorize } from "../security/roles.js";
import type { SubmissionGuard } from "../security/submission-guard.js";
import type { TokenVerifier } from "../security/token-verifier.js";
import type { AmqpConnection } from "../transport/amqp/amqp-connection.js";
import { ChannelSlot, settle } from "../transport/amqp/channel-slot.js";
import { deadLetter } from "../transport/amqp/dead-letter.js";
import { keepTrying } from "../transport/amqp/keep-trying.js";
import { declareTopology, QUEUES } from "../transport/amqp/topology.js";
import type { StatusBus } from "../transport/status-bus.js";
import { asActor } from "./api-context.js";

/** With auth off (loopback only), every sender is this admin, as over HTTP. */
const ANONYMOUS_ADMIN: AuthenticatedPrincipal = { id: "anonymous", roles: ["admin"] };
/** How long a message whose outcome could not be made durable waits before it goes back. */
const RETRY_MS = 1_000;
/** What is kept in `taskexec.dead` of a message over the size limit. */
const OVERSIZE_KEPT_BYTES = 4_096;

/** Audit principal of a message whose sender is not known (no valid token). */
const UNKNOWN = "unknown";

export interface BrokerSubmissionsOptions {
  executor: TaskExecutor;
  /** Undefined when auth is off. */
  verifier: TokenVerifier | undefined;
  guard: SubmissionGuard;
  /** Where answers go that the engine does not announce itself: duplicates and rejections. */
  bus: StatusBus;
  /** Messages taken at once (each is acked once its outcome is durable). */
  prefetch: number;
  /** The largest message taken, in bytes (`http.body_limit`: the same limit as over HTTP). */
  bodyLimit: number;
  onError: (error: unknown) => void;
  /** Where refusals before the engine (a token, a role, a limit, not JSON) are logged. */
  log: Logger;
  /** Told of each message dead-lettered, with its refusal's code. */
  onDeadLettered?: ((reason: string) => void) | undefined;
}

/** Why a message is dead-lettered, and what the audit says of it. */
class Refusal extends Error {
  constructor(
    readonly decision: string,
    message: string,
    readonly principal = UNKNOWN,
    /** The engine audited it already (a rejection, a malformed message, a quota it refused). */
    readonly audited = false,
    /** The sender heard why already (the engine's rejection, with its issues). */
    readonly answered = false,
  ) {
    super(message);
  }
}

/**
 * The admission side's broker door (SPEC §4): `submit_task` and `cancel_task` messages from
 * `taskexec.submissions`, each with a JWT in `header.auth`, treated exactly as over HTTP: the
 * token and role, the rate limit and quotas, validation, idempotency and the audit. A message is
 * acked once its outcome is durable. One that cannot be taken (not JSON, no or a bad token, a
 * wrong role, over a limit, malformed, rejected, of an unknown type) is audited and dead-lettered
 * with the reason, so that it never blocks the queue and never comes back. The submitter hears
 * the outcome on `taskexec.status` (`<submitter>.<task_id>`): an acceptance from the engine, a
 * duplicate's latest status or a rejection from here.
 */
export class BrokerSubmissions {
  readonly #options: BrokerSubmissionsOptions;
  #detach: (() => void) | undefined;
  readonly #slot = new ChannelSlot();
  #consuming = false;

  private constructor(options: BrokerSubmissionsOptions) {
    this.#options = options;
  }

  /** Starts consuming; resolves once it does. */
  static async start(
    connection: AmqpConnection,
    options: BrokerSubmissionsOptions,
  ): Promise<BrokerSubmissions> {
    const consumer = new BrokerSubmissions(options);
    consumer.#detach = await connection.attach((model) => consumer.#setup(model));
    return consumer;
  }

  async stop(): Promise<void> {
    this.#detach?.();
    await this.#slot.close();
  }

  async #setup(model: ChannelModel): Promise<void> {
    const channel = await this.#slot.open(model);
    await channel.prefetch(this.#options.prefetch);
    await this.#consume(channel);
    this.#slot.hold(channel);
  }

  /** Whether it consumes `taskexec.submissions` (`/readyz` of the api says not ready otherwise). */
  get consuming(): boolean {
    return this.#consuming;
  }

  async #consume(channel: ConfirmChannel): Promise<void> {
    await channel.consume(QUEUES.submissions, (message) => {
      if (message === null) {
        this.#cancelledByBroker(channel);
        return;
      }
      this.#take(channel, message).catch((error: unknown) => {
        // Not durable (the store is away): back in the queue after a pause, to be taken again.
        this.#options.onError(error);
        setTimeout(() => settle(() => channel.nack(message, false, true)), RETRY_MS);
      });
    });
    this.#consuming = true;
  }

  /** The broker cancelled the consumer (the queue was deleted, say): declared again, consumed again. */
  #cancelledByBroker(channel: ConfirmChannel): void {
    this.#consuming = false;
    this.#options.onError(
      new Error("the broker cancelled the consumer of taskexec.submissions; consuming again"),
    );
    const again = async () => {
      if (this.#consuming || this.#slot.current !== channel) return;
      await declareTopology(channel);
      await this.#consume(channel);
    };
    keepTrying(again, (error) => this.#options.onError(error), RETRY_MS);
  }

  async #take(channel: ConfirmChannel, message: ConsumeMessage): Promise<void> {
    try {
      await this.#handle(message);
      // The outcome is durable; a channel closed meanwhile has the broker redeliver the message,
      // and the resubmission is answered as a duplicate.
      settle(() => channel.ack(message));
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      if (!error.audited) {
        this.#options.log.warn(
          {
            principal: error.principal,
            channel: "amqp",
            code: error.decision,
            message_id: messageIdOf(message),
            reason: error.message,
          },
          "submission refused",
        );
        await this.#audit(message, error);
      }
      // A sender known by its token hears why (a sender not known has no routing key to hear on).
      if (!error.answered && error.principal !== UNKNOWN)
        await this.#answerRefusal(error.principal, message, error);
      // An oversized message is kept in part: enough to see what it was, not its megabytes.
      const kept =
        message.content.length > this.#options.bodyLimit
          ? { ...message, content: message.content.subarray(0, OVERSIZE_KEPT_BYTES) }
          : message;
      await deadLetter(
        channel,
        kept,
        QUEUES.submissions,
        `${error.decision}: ${error.message}`,
        channel,
        message,
      );
      this.#options.onDeadLettered?.(error.decision);
    }
  }

  async #audit(message: ConsumeMessage, error: Refusal): Promise<void> {
    await this.#options.executor.recordAudit([
      {
        at: Date.now(),
        principal: error.principal,
        action: message.fields.routingKey === "cancel_task" ? "cancel_task" : "submit_task",
        messageId: messageIdOf(message),
        taskId: null,
        decision: error.decision,
        payload: { reason: error.message, via: "broker" },
      },
    ]);
  }

  async #handle(message: ConsumeMessage): Promise<void> {
    // The limits of HTTP hold here too, checked before the body is parsed.
    const { bodyLimit } = this.#options;
    if (message.content.length > bodyLimit)
      throw new Refusal(
        "malformed",
        `the message is ${message.content.length} bytes, more than the ${bodyLimit} taken (http.body_limit)`,
      );
    let body: unknown;
    try {
      body = secureJson.parse(message.content.toString("utf8"), null, {
        protoAction: "error",
        constructorAction: "error",
      });
    } catch (error) {
      throw new Refusal(
        "malformed",
        /forbidden (prototype|constructor) property/.test((error as Error).message)
          ? 'not taken: a "__proto__" or "constructor.prototype" key (prototype poisoning)'
          : "not JSON",
      );
    }
    const type = (body as { type?: unknown } | null)?.type;
    if (type !== "submit_task" && type !== "cancel_task")
      throw new Refusal("malformed", `unknown message type ${JSON.stringify(type ?? null)}`);
    const principal = await this.#authenticate(body);
    if (type === "cancel_task") return this.#cancel(principal, body);
    const [admission] = await this.#options.guard.admit(principal.id, [body]);
    if (!admission!.ok) {
      // Over the rate limit or a quota: the submitter hears why (as over HTTP, 429), in #take.
      throw new Refusal(admission!.error.code, admission!.error.message, principal.id);
    }
    const [outcome] = await this.#options.executor.submitMany(asActor(principal, "amqp"), [body]);
    switch (outcome!.kind) {
      case "accepted":
        return; // announced by the engine
      case "duplicate":
        await this.#options.bus.publish([
          { submitter: outcome!.task.submitter, status: outcome!.status, duplicate: true },
        ]);
        return;
      case "rejected":
        await this.#options.bus.publish([{ submitter: principal.id, status: outcome!.status }]);
        throw new Refusal(outcome!.error.code, outcome!.error.message, principal.id, true, true);
      case "refused":
        throw new Refusal(outcome!.error.code, outcome!.error.message, principal.id, true);
      case "malformed":
        throw new Refusal(outcome!.error.code, outcome!.error.message, principal.id, true);
    }
  }

  /**
   * A `rejected` status answering a message refused before it did anything (it has a message
   * id), on `<submitter>.rejected`: a submission over a limit, a cancel of no task of theirs.
   */
  async #answerRefusal(submitter: string, message: ConsumeMessage, error: Refusal): Promise<void> {
    const messageId = messageIdOf(message);
    if (messageId === null) return;
    const code = isErrorCode(error.decision) ? error.decision : "validation_failed";
    const status = rejectionStatus(messageId, code, [], error.message, Date.now());
    await this.#options.bus.publish([{ submitter, status }]);
  }

  async #authenticate(body: unknown): Promise<AuthenticatedPrincipal> {
    const verifier = this.#options.verifier;
    if (verifier === undefined) return ANONYMOUS_ADMIN;
    const token = (body as { header?: { auth?: unknown } }).header?.auth;
    if (typeof token !== "string" || token.length === 0)
      throw new Refusal("unauthenticated", "header.auth must hold a JWT");
    let principal: AuthenticatedPrincipal;
    try {
      principal = await verifier.verify(token);
    } catch (error) {
      throw new Refusal("unauthenticated", error instanceof Error ? error.message : "bad token");
    }
    try {
      authorize(principal, "submit_task");
    } catch (error) {
      throw new Refusal("forbidden", (error as Error).message, principal.id);
    }
    return principal;
  }

  async #cancel(principal: AuthenticatedPrincipal, body: unknown): Promise<void> {
    const {
      task_id: taskId,
      reference_id: referenceId,
      reason,
    } = (body as { body?: { task_id?: unknown; reference_id?: unknown; reason?: unknown } }).body ?? {};
    const actor = asActor(principal);
    try {
      const id =
        typeof taskId === "string"
          ? taskId
          : typeof referenceId === "string"
            ? await this.#options.executor.taskIdByReference(actor, referenceId)
            : undefined;
      if (id === undefined)
        throw new Refusal("malformed", "cancel_task needs body.task_id or body.reference_id", principal.id);
      const { status, changed } = await this.#options.executor.cancel(
        actor,
        id,
        typeof reason === "string" ? reason : undefined,
      );
      // A cancel the engine made is announced by it; a finished task's answer is its last status.
      if (!changed) {
        const task = await this.#options.executor.getTask(actor, id);
        await this.#options.bus.publish([{ submitter: task.submitter, status }]);
      }
    } catch (error) {
      // Not theirs, not there, not allowed: refused with its code. What may pass (a fault of
      // ours, the store away) goes back to the queue, to be taken again.
      if (error instanceof TaskexecError && !error.retryable)
        throw new Refusal(error.code, error.message, principal.id);
      throw error;
    }
  }
}

function messageIdOf(message: ConsumeMessage): string | null {
  try {
    const id = (JSON.parse(message.content.toString("utf8")) as { header?: { message_id?: unknown } }).header
      ?.message_id;
    return typeof id === "string" ? id.slice(0, 256) : null;
  } catch {
    return null;
  }
}
