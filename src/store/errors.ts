import type { TaskState } from "../protocol/states.js";

/** A compare-and-set change found the task in another state than expected: a lost race. */
export class StaleStateError extends Error {
  override readonly name = "StaleStateError";
  constructor(
    readonly taskId: string,
    readonly expected: readonly TaskState[],
    readonly actual: TaskState | undefined,
  ) {
    super(
      actual === undefined
        ? `task ${taskId} does not exist`
        : `task ${taskId} is ${actual}, expected ${expected.join(" or ")}`,
    );
  }
}

/** The store URL or file cannot be used; says which and why. */
export class StoreConfigError extends Error {
  override readonly name = "StoreConfigError";
}
