import type { AuditRecord, NewTask, TaskRecord } from "../domain/records.js";
import { MalformedMessageError, TaskexecError, TaskRejectedError } from "../protocol/errors.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type { SubmissionOutcome, SubmissionQuota } from "../store/task-store.js";
import { type EngineContext, routed } from "./engine-context.js";
import { needsOpening, openSpecifications } from "./sealed-specifications.js";
import { rejectionStatus } from "./status-changes.js";
import { TaskValidator } from "./task-validator.js";
import { componentLogger, type Logger } from "../observability/logger.js";

/** Who is asking, for ownership checks: a submitter sees only its own tasks, an admin all. */
export interface Principal {
  id: string;
  admin?: boolean;
  /** The door the request came in by (for the logs); unset: the library's in-process client. */
  via?: "http" | "amqp";
}

export type SubmitOutcome =
  | { kind: "accepted" | "duplicate"; status: TaskStatus; task: TaskRecord }
  | { kind: "rejected"; status: TaskStatus; error: TaskRejectedError }
  | { kind: "malformed"; error: MalformedMessageError }
  /**
   * Not stored: over the submitter's quota (`quota_exceeded`: `limits.max_active_tasks`,
   * `limits.max_resources`), or struck by a fault of ours (`internal_error`, that message alone).
   */
  | { kind: "refused"; error: TaskexecError };

/**
 * The admission side of the executor: validates `submit_task` messages, holds them to the
 * principal's quota, and stores each batch with its audit records in one write, with one clock
 * reading for the lot; then announces the acceptances. Running them is the worker side's
 * (TaskWorker, TaskAttempt, Housekeeping), which the store tells of new work through the work
 * signal, as soon as a start may be recorded with the submission (see ReadyWorkSink).
 */
export class TaskAdmission {
  readonly #ctx: EngineContext;
  readonly #validator: TaskValidator;
  /** The per-principal quota every submission is held to, when `limits` sets one. */
  readonly #quota: SubmissionQuota | undefined;
  readonly #log: Logger;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    this.#log = componentLogger(ctx.log, "submissions");
    const { max_active_tasks: maxTasks, max_resources: maxResources } = ctx.options.limits;
    this.#quota =
      maxTasks === undefined && maxResources === undefined ? undefined : { maxTasks, maxResources };
    this.#validator = new TaskValidator({
      registry: ctx.registry,
      capacity: () => ctx.resources.capacity,
      placement: (type, requirements, now) => ctx.cluster?.refusal(type, requirements, now),
      liveWorker: (type, requirements, now) => ctx.cluster?.liveWorkerFor(type, requirements, now) ?? true,
      defaultMaxAttempts: ctx.options.retry.max_attempts,
      node: ctx.node,
    });
  }

  /** Submits many messages in one transaction; one bad message never spoils the others. */
  async submitMany(principal: Principal, messages: readonly unknown[]): Promise<SubmitOutcome[]> {
    const ctx = this.#ctx;
    const now = ctx.clock.now();
    const outcomes: (SubmitOutcome | undefined)[] = [];
    /** Audit records of the messages refused before the store (malformed, rejected). */
    const refusals: AuditRecord[] = [];
    const toInsert: { index: number; task: NewTask }[] = [];
    const requireEncryption = ctx.options.security.require_encryption;
    const opened = needsOpening(messages, requireEncryption)
      ? await openSpecifications(messages, ctx.encryption, requireEncryption)
      : undefined;
    for (const [index, message] of (opened?.messages ?? messages).entries()) {
      let validation: ReturnType<TaskValidator["validate"]>;
      try {
        validation = this.#validator.validate(principal.id, message, now, opened?.issues.get(index));
      } catch (error) {
        if (!(error instanceof MalformedMessageError)) {
          // Our fault, not the message's: it fails alone, and its neighbours go on.
          ctx.log.error({ err: error, principal: principal.id }, "validating a submission failed");
          outcomes[index] = {
            kind: "refused",
            error: new TaskexecError("internal_error", "internal error while validating this message", {
              cause: error,
            }),
          };
          continue;
        }
        outcomes[index] = { kind: "malformed", error };
        refusals.push({
          at: now,
          principal: principal.id,
          action: "submit_task",
          messageId: null,
          taskId: null,
          decision: "malformed",
          payload: { errors: error.issues },
        });
        continue;
      }
      if (validation.ok) {
        toInsert.push({ index, task: validation.task });
        continue;
      }
      const error = new TaskRejectedError(validation.code, validation.issues);
      outcomes[index] = {
        kind: "rejected",
        error,
        status: rejectionStatus(validation.messageId, validation.code, validation.issues, error.message, now),
      };
      refusals.push({
        at: now,
        principal: principal.id,
        action: "submit_task",
        messageId: validation.messageId,
        taskId: null,
        decision: "rejected",
        payload: { code: validation.code, errors: validation.issues },
      });
    }
    // One transaction for everything (group commit: both writes are queued in this turn): the
    // tasks with their audit records, and the refusals' audit records.
    const refusalsAudited = refusals.length > 0 ? ctx.store.appendAudit(refusals) : Promise.resolve();
    const inserted: Promise<SubmissionOutcome[]> =
      toInsert.length > 0
        ? ctx.store.submitTasks(
            toInsert.map((t) => t.task),
            { principal: principal.id, at: now },
            { quota: this.#quota },
          )
        : Promise.resolve([]);
    // Awaited directly (not through Promise.all): the acceptances must be announced before the
    // starts that joined their transaction, which settle right after them. The refusals' audit
    // is marked handled first: when the commit fails, `inserted` throws before it is awaited.
    refusalsAudited.catch(() => {});
    const results = await inserted;
    const overQuota: { index: number; task: NewTask; message: string }[] = [];
    for (const [i, result] of results.entries()) {
      const { index, task } = toInsert[i]!;
      if (result.refused !== undefined) {
        overQuota.push({ index, task, message: result.refused.message });
        continue;
      }
      const kind = result.created ? "accepted" : "duplicate";
      outcomes[index] = { kind, status: result.status, task: result.task };
    }
    const created = results.flatMap((r) => (r.created ? [r] : []));
    for (const { task } of created) if (task.deadline !== null) ctx.wake(task.deadline);
    ctx.announce(created.map(routed));
    for (const { task, status } of created) ctx.observe(task, status);
    // Only now: awaiting first would let the starts announce themselves before their acceptance.
    await refusalsAudited;
    if (overQuota.length > 0) await this.#answerOverQuota(principal, overQuota, outcomes, now);
    for (const o of outcomes)
      if (o?.kind === "rejected") for (const obs of ctx.observers) obs.onRejected(o.error.code);
    this.#logOutcomes(principal, outcomes as SubmitOutcome[]);
    return outcomes as SubmitOutcome[];
  }

  /**
   * A line per submission: accepted and duplicate at `info`, refused at `warn`, with the
   * principal, the door and the code. A refusal's issues are given by path and code only: their
   * messages may quote what was sent.
   */
  #logOutcomes(principal: Principal, outcomes: readonly SubmitOutcome[]): void {
    const log = this.#log;
    const info = log.isLevelEnabled("info");
    const by = { principal: principal.id, channel: principal.via ?? "library" };
    for (const o of outcomes) {
      switch (o.kind) {
        case "accepted":
        case "duplicate":
          if (info)
            log.info(
              { ...by, task_id: o.task.id, type: o.task.type, message_id: o.task.messageId },
              o.kind === "accepted" ? "submission accepted" : "submission was a duplicate",
            );
          break;
        case "rejected":
        case "malformed":
          log.warn(
            { ...by, code: o.error.code, issues: o.error.issues.map((i) => `${i.path}:${i.code}`) },
            `submission ${o.kind}`,
          );
          break;
        case "refused":
          log.warn({ ...by, code: o.error.code, reason: o.error.message }, "submission refused");
          break;
      }
    }
  }

  /**
   * Answers the submissions the store refused for quota: a message id the principal already used
   * is a duplicate (a resubmission costs no quota), any other is refused and audited.
   */
  async #answerOverQuota(
    principal: Principal,
    refused: readonly { index: number; task: NewTask; message: string }[],
    outcomes: (SubmitOutcome | undefined)[],
    now: number,
  ): Promise<void> {
    const store = this.#ctx.store;
    const audit: AuditRecord[] = [];
    await Promise.all(
      refused.map(async ({ index, task, message }) => {
        const stored = await store.getTaskByMessageId(task.submitter, task.messageId);
        if (stored !== undefined) {
          const [status] = await store.getStatuses(stored.id, stored.lastSequence - 1);
          outcomes[index] = { kind: "duplicate", status: status!, task: stored };
          audit.push({
            at: now,
            principal: principal.id,
            action: "submit_task",
            messageId: task.messageId,
            taskId: stored.id,
            decision: "duplicate",
          });
          return;
        }
        outcomes[index] = { kind: "refused", error: new TaskexecError("quota_exceeded", message) };
        audit.push({
          at: now,
          principal: principal.id,
          action: "submit_task",
          messageId: task.messageId,
          taskId: null,
          decision: "quota_exceeded",
        });
      }),
    );
    if (audit.length > 0) await store.appendAudit(audit);
    for (const record of audit)
      if (record.decision === "quota_exceeded")
        for (const obs of this.#ctx.observers) obs.onRejected("quota_exceeded");
  }
}
