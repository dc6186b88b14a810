import { encryptJson } from "../security/json-encryption.js";
import type { TimerHandle } from "../clock/timer-queue.js";
import type { AnyTaskHandler, HandlerContext } from "../handlers/handler.js";
import { checkParameters } from "../handlers/parameter-schema.js";
import { coerceError, PermanentError, TaskexecError } from "../protocol/errors.js";
import type { TaskErrorInfo } from "../protocol/task-status.js";
import type { AllocationRecord, TaskChange, TaskRecord } from "../domain/records.js";
import type { EngineContext } from "./engine-context.js";
import { retryDelayMs } from "./retry-policy.js";
import { completion, errorInfo, failure, progressUpdate } from "./status-changes.js";

/** Why an attempt was stopped from outside its handler. */
export type AbortCause = "cancelled" | "deadline_exceeded" | "timeout" | "shutdown" | "lease_lost";

const ABORT_MESSAGES: Record<AbortCause, string> = {
  cancelled: "task cancelled",
  deadline_exceeded: "task deadline_exceeded",
  timeout: "task timeout",
  shutdown: "task interrupted by shutdown",
  // Another executor may run the task now; this one can record nothing more (fencing).
  lease_lost: "this executor lost the task's lease",
};

/**
 * One attempt of one task: runs the handler with its context, races it against cancel,
 * deadline and `timeout_ms`, records the outcome, and gives the resources back once the handler
 * has settled (or `abort_grace_ms` after an abort it ignores).
 */
export class TaskAttempt {
  readonly #ctx: EngineContext;
  /** The task as its latest change left it (a hint for the store: see `TaskChange.known`). */
  #task: TaskRecord;
  readonly #allocation: AllocationRecord;
  readonly #handler: AnyTaskHandler;
  /** Made when the handler first reads its signal: most never do, and one costs ~5 µs. */
  #controller: AbortController | undefined;
  #abortReason: TaskexecError | undefined;
  readonly #timers: TimerHandle[] = [];
  #cause: AbortCause | undefined;
  #onAbort: () => void = () => {};
  /** Resolves when the outcome is recorded and the resources are back. */
  readonly done: Promise<void>;

  /**
   * @param onHandlerDone called when the handler has returned or thrown and its resources are
   *   back, before the outcome is written: its execution slot may go to the next task, whose
   *   start is then written in the same transaction as this outcome.
   */
  constructor(
    ctx: EngineContext,
    task: TaskRecord,
    allocation: AllocationRecord,
    handler: AnyTaskHandler,
    private readonly onHandlerDone: () => void = () => {},
  ) {
    this.#ctx = ctx;
    this.#task = task;
    this.#allocation = allocation;
    this.#handler = handler;
    this.done = this.#run().catch((error: unknown) => {
      ctx.log.error({ err: error, task_id: task.id }, "recording an attempt's outcome failed");
    });
  }

  get attempt(): number {
    return this.#task.attempts;
  }

  /** Stops the handler: its signal aborts with a TaskexecError naming the cause. */
  abort(cause: AbortCause): void {
    if (this.#cause !== undefined) return;
    this.#cause = cause;
    const code = cause === "shutdown" || cause === "lease_lost" ? "executor_lost" : cause;
    this.#abortReason = new TaskexecError(code, ABORT_MESSAGES[cause]);
    this.#controller?.abort(this.#abortReason);
    this.#onAbort();
  }

  async #run(): Promise<void> {
    const { clock, timers } = this.#ctx;
    const task = this.#task;
    if (task.deadline !== null)
      this.#timers.push(timers.at(task.deadline, () => this.abort("deadline_exceeded")));
    if (task.timeoutMs !== null)
      this.#timers.push(timers.at(clock.now() + task.timeoutMs, () => this.abort("timeout")));
    const aborted = new Promise<void>((resolve) => {
      this.#onAbort = resolve;
    });

    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
    const settled = this.#invoke().then(
      (value) => {
        outcome = { ok: true, value };
      },
      (error: unknown) => {
        outcome = { ok: false, error };
      },
    );
    await Promise.race([settled, aborted]);
    for (const timer of this.#timers) timer.cancel();

    const cause = this.#cause;
    if (cause === undefined && outcome !== undefined) {
      this.#ctx.resources.release(this.#allocation);
      this.onHandlerDone();
      await this.#record(outcome);
      return;
    }
    // Aborted: record it now (cancel and shutdown are recorded by whoever aborted), then wait
    // for the handler to let go of its resources, but not forever.
    if (cause === "deadline_exceeded" || cause === "timeout") {
      const message =
        cause === "timeout"
          ? `the handler ran longer than timeout_ms (${task.timeoutMs} ms)`
          : "the deadline passed while the task ran";
      await this.#fail(errorInfo(cause, message));
    }
    await Promise.race([
      settled,
      new Promise<void>((r) => timers.at(clock.now() + this.#ctx.options.abort_grace_ms, r)),
    ]);
    if (outcome === undefined)
      this.#ctx.log.warn({ task_id: task.id, cause }, "handler ignored its abort signal");
    this.#ctx.resources.release(this.#allocation);
  }

  #signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** The parameters as the handler's schema gives them back (defaults and transforms applied). */
  #parameters(stored: Record<string, unknown>): unknown {
    const schema = this.#handler.parameters;
    if (schema === undefined) return stored;
    const checked = checkParameters(schema, stored, "parameters");
    if (checked.ok) return checked.value;
    // Checked at submission; failing now means the handler's schema changed since.
    throw new PermanentError(
      `the parameters no longer pass the handler's schema: ${checked.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    );
  }

  async #invoke(): Promise<unknown> {
    const task = this.#task;
    const parameters = this.#parameters(task.parameters);
    const signal = () => this.#signal();
    const log = this.#ctx.log;
    let child: HandlerContext["log"] | undefined;
    const context: HandlerContext<unknown> = {
      taskId: task.id,
      attempt: task.attempts,
      parameters,
      resources: this.#allocation.amounts,
      get signal() {
        return signal();
      },
      progress: (fraction, details) => this.#progress(fraction, details),
      // Made on first use: most handlers never log, and a child logger costs ~2 µs.
      get log() {
        return (child ??= log.child({ task_id: task.id, type: task.type, attempt: task.attempts }));
      },
    };
    return await this.#handler.run(context);
  }

  async #progress(fraction: number, details: Record<string, unknown> = {}): Promise<void> {
    if (typeof fraction !== "number" || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
      throw new TypeError(`progress must be a number from 0 to 1, got ${String(fraction)}`);
    }
    if (this.#abortReason !== undefined) return;
    const outcome = await this.#ctx.apply(
      this.#held(progressUpdate(this.#task, this.attempt, fraction, details, this.#ctx.clock.now())),
    );
    if (outcome !== undefined && outcome.task.lastSequence > this.#task.lastSequence)
      this.#task = outcome.task;
  }

  async #record(outcome: { ok: true; value: unknown } | { ok: false; error: unknown }): Promise<void> {
    if (!outcome.ok) {
      await this.#fail(classify(outcome.error));
      return;
    }
    let result: unknown;
    try {
      const json = JSON.stringify(outcome.value ?? null);
      if (json === undefined) throw new TypeError(`a ${typeof outcome.value} is not JSON`);
      result = JSON.parse(json);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await this.#fail(
        errorInfo("handler_error", `the handler returned a value that is not JSON: ${reason}`, false),
      );
      return;
    }
    if (this.#task.resultKey !== null) {
      // Encrypted for the submitter's key (its task_specification's result_key): from here on,
      // the store, the statuses and the snapshots hold only what the submitter can open.
      try {
        result = await encryptJson(this.#task.resultKey, result);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        await this.#fail(
          errorInfo(
            "handler_error",
            `the result could not be encrypted for the result_key: ${reason}`,
            false,
          ),
        );
        return;
      }
    }
    const changes = completion(this.#task, this.attempt, result, this.#ctx.clock.now());
    await this.#ctx.applySequence(changes.map((change) => this.#held(change)));
  }

  async #fail(error: TaskErrorInfo): Promise<void> {
    const now = this.#ctx.clock.now();
    const retryAt = now + retryDelayMs(this.#ctx.options.retry, this.attempt);
    await this.#ctx.apply(this.#held(failure(this.#task, "executing", this.attempt, error, now, retryAt)));
  }

  /** A change this attempt makes: fenced by its lease (see TaskChange.holder). */
  #held(change: TaskChange): TaskChange {
    change.holder = { owner: this.#ctx.node, attempt: this.attempt };
    return change;
  }
}

/** What a thrown value means for the task: its code, message, and whether to retry. */
export function classify(thrown: unknown): TaskErrorInfo {
  if (thrown instanceof PermanentError) return errorInfo("handler_error", thrown.message, false);
  if (thrown instanceof TaskexecError) return errorInfo(thrown.code, thrown.message);
  const error = coerceError(thrown);
  if (error.name === "ZodError")
    return errorInfo("handler_error", `parameters no longer valid: ${error.message}`, false);
  return errorInfo("handler_error", error.message || error.name, true);
}
