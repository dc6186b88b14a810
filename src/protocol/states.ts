/**
 * The task lifecycle of SPEC §1 as data. Every state change in the engine and the stores goes
 * through {@link assertTransition}, so the table below is the single definition of what is legal.
 */
export const TASK_STATES = [
  "submitted",
  "validating",
  "resource_allocation",
  "waiting",
  "executing",
  "completing",
  "completed",
  "failed",
  "rejected",
  "cancelled",
] as const;

export type TaskState = (typeof TASK_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  "completed",
  "failed",
  "rejected",
  "cancelled",
]);

const TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  submitted: ["validating"],
  validating: ["resource_allocation", "rejected"],
  resource_allocation: ["executing", "waiting"],
  waiting: ["resource_allocation", "failed"],
  executing: ["completing", "failed", "waiting"],
  completing: ["completed"],
  completed: [],
  failed: [],
  rejected: [],
  cancelled: [],
};

export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.has(state);
}

/** Whether `from → to` is a legal transition. Any non-terminal state may go to `cancelled`. */
export function canTransition(from: TaskState, to: TaskState): boolean {
  if (to === "cancelled") return !isTerminal(from);
  return TRANSITIONS[from].includes(to);
}

/** Thrown when code asks for a transition the protocol does not allow: always a bug or a lost race. */
export class InvalidTransitionError extends Error {
  override readonly name = "InvalidTransitionError";
  constructor(
    readonly from: TaskState,
    readonly to: TaskState,
  ) {
    super(`illegal task state transition ${from} → ${to}`);
  }
}

/** Applies a transition: returns the new state, or throws {@link InvalidTransitionError}. */
export function assertTransition(from: TaskState, to: TaskState): TaskState {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
  return to;
}
