import type { EngineObserver } from "../engine/engine-observer.js";
import type { TaskRecord } from "../domain/records.js";
import type { StatusEvent, TaskStatus } from "../protocol/task-status.js";
import type { Logger } from "./logger.js";

/**
 * A log line for every state change this process makes (the seed's "submission, state_change,
 * completion" events): `info` for each, `warn` for a failure that ends the task, `debug` for a
 * progress report and for the acceptance (logged at `info` by the submissions' log, with its
 * principal and door). Each line names the task, its type, state, event, attempt, node and submitter;
 * a retry or a failure adds the error's code and message. Never the parameters nor the result:
 * the fields are picked one by one, the record is never handed to the logger.
 */
export class LifecycleLog implements EngineObserver {
  readonly #log: Logger;
  readonly #info: boolean;
  readonly #debug: boolean;

  constructor(log: Logger) {
    this.#log = log;
    // The levels are fixed for the process's life: a disabled level costs one test per status.
    this.#info = log.isLevelEnabled("info");
    this.#debug = log.isLevelEnabled("debug");
  }

  onStatus(task: TaskRecord, status: TaskStatus): void {
    const { body } = status;
    const event = body.details?.event;
    // The acceptance has its line at info already, from the submissions' log (with who sent it
    // and how): here it is a detail.
    if (event === "progress_update" || event === "task_accepted") {
      if (this.#debug)
        this.#log.debug(
          { ...fieldsOf(task, status), progress: body.progress },
          event === "task_accepted" ? "task accepted" : "task progress",
        );
      return;
    }
    const error = body.details?.error;
    if (body.status === "failed") {
      this.#log.warn({ ...fieldsOf(task, status), code: error?.code, error: error?.message }, "task failed");
      return;
    }
    if (!this.#info) return;
    const fields = fieldsOf(task, status);
    if (event === "retry_scheduled") {
      this.#log.info(
        { ...fields, code: error?.code, error: error?.message, retry_at: body.details?.retry_at },
        "task attempt failed; retry scheduled",
      );
      return;
    }
    this.#log.info(fields, (event === undefined ? undefined : SAID[event]) ?? `task ${body.status}`);
  }

  onRejected(): void {
    // Refused submissions are logged where they are refused (TaskAdmission), with the principal.
  }
}

/** What a line says of the events that name a change better than its state does. */
const SAID: Partial<Record<StatusEvent, string>> = {
  execution_started: "task started",
  resources_waiting: "task waiting for resources",
  task_completed: "task completed",
  task_cancelled: "task cancelled",
};

function fieldsOf(task: TaskRecord, status: TaskStatus) {
  return {
    task_id: task.id,
    type: task.type,
    state: status.body.status,
    event: status.body.details?.event,
    attempt: task.attempts,
    sequence: status.header.sequence,
    node: status.body.details?.node ?? task.allocation?.node ?? task.leaseOwner ?? undefined,
    submitter: task.submitter,
  };
}
