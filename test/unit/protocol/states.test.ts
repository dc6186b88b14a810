import { describe, expect, it } from "vitest";
import {
  assertTransition,
  canTransition,
  InvalidTransitionError,
  isTerminal,
  TASK_STATES,
  type TaskState,
} from "../../../src/protocol/states.js";

// SPEC §1, written out independently of the table in src/ so that the two check each other.
const LEGAL = new Set([
  "submitted>validating",
  "validating>resource_allocation",
  "validating>rejected",
  "resource_allocation>executing",
  "resource_allocation>waiting",
  "waiting>resource_allocation",
  "waiting>failed",
  "executing>completing",
  "executing>failed",
  "executing>waiting",
  "completing>completed",
  ...["submitted", "validating", "resource_allocation", "waiting", "executing", "completing"].map(
    (s) => `${s}>cancelled`,
  ),
]);

const pairs: [TaskState, TaskState][] = TASK_STATES.flatMap((from) =>
  TASK_STATES.map((to) => [from, to] as [TaskState, TaskState]),
);

describe("task state table", () => {
  it.each(pairs)("%s → %s", (from, to) => {
    const legal = LEGAL.has(`${from}>${to}`);
    expect(canTransition(from, to)).toBe(legal);
    if (legal) expect(assertTransition(from, to)).toBe(to);
    else expect(() => assertTransition(from, to)).toThrow(InvalidTransitionError);
  });

  it("has exactly four terminal states, none of which leads anywhere", () => {
    const terminal = TASK_STATES.filter(isTerminal);
    expect(terminal.sort()).toEqual(["cancelled", "completed", "failed", "rejected"]);
    for (const state of terminal) for (const to of TASK_STATES) expect(canTransition(state, to)).toBe(false);
  });
});
