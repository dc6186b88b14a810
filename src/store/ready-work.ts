import type { ReadyWork, TaskRecord } from "../domain/records.js";

/**
 * The ready work a submission announces while it is being written: its new tasks, and (once
 * written) the ids of those it created. A failed write rejects `written`, which whoever listens
 * handles; the submitter hears of the failure from the insert itself.
 */
export function submittedWork(tasks: readonly TaskRecord[], created: Promise<Iterable<string>>): ReadyWork {
  const written = created.then((ids) => [...ids]);
  written.catch(() => {});
  return { tasks, written };
}
