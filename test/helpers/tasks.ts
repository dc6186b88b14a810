import { randomUUID } from "node:crypto";
import type { NewTask } from "../../src/domain/records.js";

let counter = 0;

/** A NewTask with sensible defaults, for store tests. */
export function newTask(overrides: Partial<NewTask> = {}): NewTask {
  counter += 1;
  const now = Date.now();
  return {
    id: randomUUID(),
    submitter: "alice",
    messageId: `msg-${counter}-${randomUUID()}`,
    type: "noop",
    priority: 5,
    deadline: null,
    parameters: { n: counter },
    requirements: {},
    timeoutMs: null,
    maxAttempts: 3,
    createdAt: now,
    resultKey: null,
    state: "resource_allocation",
    accepted: { messageId: randomUUID(), at: now, details: { event: "task_accepted" } },
    ...overrides,
  };
}

export function draft(details: Record<string, unknown> = {}, progress?: number) {
  return { messageId: randomUUID(), at: Date.now(), details, progress };
}
