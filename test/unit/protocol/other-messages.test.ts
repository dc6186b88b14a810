import { describe, expect, it } from "vitest";
import { Acknowledge } from "../../../src/protocol/acknowledge.js";
import { CancelTask } from "../../../src/protocol/cancel-task.js";
import { TaskStatus } from "../../../src/protocol/task-status.js";

const now = new Date().toISOString();

describe("task_status, cancel_task and acknowledge schemas", () => {
  it("accepts a task_status and refuses an unknown state, event or error code", () => {
    const status = {
      type: "task_status",
      header: { message_id: "s-1", reference_id: "task-123", timestamp: now, task_id: "t-1", sequence: 3 },
      body: {
        status: "executing",
        progress: 0.5,
        details: { event: "progress_update", attempt: 1, step: "x" },
      },
    };
    expect(TaskStatus.parse(status).body.details).toMatchObject({ step: "x" });
    const bad = (body: unknown) => TaskStatus.safeParse({ ...status, body }).success;
    expect(bad({ status: "paused" })).toBe(false);
    expect(bad({ status: "executing", progress: 1.5 })).toBe(false);
    expect(bad({ status: "executing", details: { event: "exploded" } })).toBe(false);
    expect(
      bad({ status: "failed", details: { error: { code: "oops", message: "", retryable: false } } }),
    ).toBe(false);
    expect(TaskStatus.safeParse({ ...status, header: { ...status.header, sequence: 0 } }).success).toBe(
      false,
    );
  });

  it("accepts a cancel_task by task id or by reference, and refuses one with neither", () => {
    const header = { message_id: "c-1", timestamp: now };
    expect(
      CancelTask.safeParse({ type: "cancel_task", header, body: { task_id: "t-1", reason: "no" } }).success,
    ).toBe(true);
    expect(
      CancelTask.safeParse({ type: "cancel_task", header, body: { reference_id: "task-123" } }).success,
    ).toBe(true);
    const neither = CancelTask.safeParse({ type: "cancel_task", header, body: { reason: "?" } });
    expect(neither.success).toBe(false);
    expect(neither.error!.issues[0]!.path).toEqual(["body", "task_id"]);
  });

  it("accepts an acknowledge naming the status it acknowledges", () => {
    expect(
      Acknowledge.safeParse({ type: "acknowledge", header: { message_id: "a-1", reference_id: "s-1" } })
        .success,
    ).toBe(true);
    expect(Acknowledge.safeParse({ type: "acknowledge", header: { message_id: "a-1" } }).success).toBe(false);
  });
});
