import { v7 as timeOrderedId } from "uuid";
import { z } from "zod";
import { checkParameters } from "../handlers/parameter-schema.js";
import type { HandlerRegistry } from "../handlers/registry.js";
import type { ErrorCode } from "../protocol/error-codes.js";
import { MalformedMessageError } from "../protocol/errors.js";
import { Priority, Timestamp } from "../protocol/fields.js";
import { issuesFromZod, type ValidationIssue } from "../protocol/issues.js";
import { SubmitTaskEnvelope, SubmitTaskHeader, TaskSpecification } from "../protocol/submit-task.js";
import { unsatisfiableIssues } from "../resources/capacity.js";
import type { NewTask, ResourceAmounts } from "../domain/records.js";

const BodyWithoutSpecification = z.object({ priority: Priority, deadline: Timestamp.optional() });

export type Validation =
  { ok: true; task: NewTask } | { ok: false; messageId: string; code: ErrorCode; issues: ValidationIssue[] };

export interface ValidatorDependencies {
  registry: HandlerRegistry;
  /** The largest capacity any node offers (embedded: this node's). */
  capacity: () => Readonly<ResourceAmounts>;
  defaultMaxAttempts: number;
  node: string;
  /**
   * Where the tasks run elsewhere (`taskexec api`): why no live worker could run this one
   * (undefined: this process runs them, and its handlers and capacity decide).
   */
  placement?: (type: string, requirements: ResourceAmounts, now: number) => ValidationIssue[] | undefined;
  /** Where the tasks run elsewhere: whether a live worker could take this one now. */
  liveWorker?: (type: string, requirements: ResourceAmounts, now: number) => boolean;
}

/**
 * The TaskValidator of the seed's design: checks a `submit_task` completely and reports every
 * problem at once, each with its path — the envelope, the handler's parameter schema, the
 * requirements against capacity, and the deadline. Throws {@link MalformedMessageError} only
 * when the message cannot even be addressed (no envelope, no usable message_id).
 */
/*
 * Task ids are UUIDv7 (time-ordered): new rows land at the right edge of every index keyed by
 * them, so inserting into a queue of a million costs what it costs into an empty one.
 */
export class TaskValidator {
  constructor(private readonly deps: ValidatorDependencies) {}

  /** `sealing`: why the message's encrypted specification was refused (see sealed-specifications.ts). */
  validate(submitter: string, message: unknown, now: number, sealing?: ValidationIssue): Validation {
    const envelope = SubmitTaskEnvelope.safeParse(message);
    if (!envelope.success) throw new MalformedMessageError(issuesFromZod(envelope.error));
    const messageId = envelope.data.header.message_id;
    const raw = message as { header: unknown; body: unknown };

    const issues: ValidationIssue[] = [];
    const header = SubmitTaskHeader.safeParse(raw.header);
    if (!header.success) issues.push(...issuesFromZod(header.error, "header"));

    const body = BodyWithoutSpecification.safeParse(raw.body);
    if (!body.success) issues.push(...issuesFromZod(body.error, "body"));

    if (sealing !== undefined) issues.push(sealing);
    const specification = this.#specification(raw.body, issues, sealing !== undefined);
    const deadline = body.success && body.data.deadline !== undefined ? Date.parse(body.data.deadline) : null;
    if (deadline !== null && deadline <= now) {
      issues.push({
        path: "body.deadline",
        message: "the deadline has already passed",
        code: "deadline_exceeded",
      });
    }

    let parameters: Record<string, unknown> = {};
    if (specification) {
      parameters = specification.parameters;
      const handler = this.deps.registry.get(specification.type);
      const elsewhere = this.deps.placement?.(specification.type, specification.requirements ?? {}, now);
      if (elsewhere !== undefined) {
        // The workers decide; this process checks the parameters of the types it knows too.
        issues.push(...elsewhere);
        if (handler?.parameters && !elsewhere.some((i) => i.code === "handler_not_found")) {
          const checked = checkParameters(
            handler.parameters,
            parameters,
            "body.task_specification.parameters",
          );
          if (!checked.ok) issues.push(...checked.issues);
        }
      } else if (handler === undefined) {
        issues.push({
          path: "body.task_specification.type",
          message: `no handler for task type "${specification.type}" (known: ${this.deps.registry.types().join(", ")})`,
          code: "handler_not_found",
        });
      } else if (handler.parameters) {
        const checked = checkParameters(handler.parameters, parameters, "body.task_specification.parameters");
        if (!checked.ok) issues.push(...checked.issues);
      }
      if (elsewhere === undefined)
        issues.push(...unsatisfiableIssues(specification.requirements ?? {}, this.deps.capacity()));
    }

    if (issues.length > 0 || !specification || !body.success) {
      return { ok: false, messageId, code: issues[0]?.code ?? "validation_failed", issues };
    }
    const requirements = specification.requirements ?? {};
    // Accepted though no live worker could take it now (none heard lately, or the ones that run
    // it are away): it waits in the queue for one, and its acceptance says so.
    const awaitingWorker = this.deps.liveWorker?.(specification.type, requirements, now) === false;
    return {
      ok: true,
      task: {
        id: timeOrderedId(),
        submitter,
        messageId,
        type: specification.type,
        priority: body.data.priority,
        deadline,
        parameters,
        requirements,
        timeoutMs: specification.timeout_ms ?? null,
        maxAttempts: specification.max_attempts ?? this.deps.defaultMaxAttempts,
        createdAt: now,
        resultKey: specification.result_key ?? null,
        state: "resource_allocation",
        accepted: {
          messageId: timeOrderedId(),
          at: now,
          details: {
            event: "task_accepted",
            node: this.deps.node,
            ...(awaitingWorker ? { awaiting_worker: true } : {}),
          },
        },
      },
    };
  }

  #specification(body: unknown, issues: ValidationIssue[], refused: boolean): TaskSpecification | undefined {
    const value =
      typeof body === "object" && body !== null
        ? (body as Record<string, unknown>).task_specification
        : undefined;
    const path = "body.task_specification";
    if (typeof value === "string") {
      if (refused) return undefined;
      issues.push({
        path,
        message: "encrypted task specifications are not enabled on this executor",
        code: "validation_failed",
      });
      return undefined;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      issues.push({
        path,
        message: value === undefined ? "is required" : "must be an object (or a JWE compact string)",
        code: "validation_failed",
      });
      return undefined;
    }
    const parsed = TaskSpecification.safeParse(value);
    if (!parsed.success) {
      issues.push(...issuesFromZod(parsed.error, path));
      return undefined;
    }
    return parsed.data;
  }
}
