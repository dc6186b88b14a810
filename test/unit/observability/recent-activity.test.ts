import { describe, expect, it } from "vitest";
import type { TaskState } from "../../../src/protocol/states.js";
import type { StatusEvent, TaskStatus } from "../../../src/protocol/task-status.js";
import type { TaskRecord } from "../../../src/domain/records.js";
import { ACTIVITY_WINDOW_S, RecentActivity } from "../../../src/observability/recent-activity.js";

const T0 = 1_800_000_000_000;

function record(overrides: Partial<TaskRecord>): TaskRecord {
  return {
    id: "t",
    submitter: "alice",
    messageId: "m",
    type: "noop",
    state: "resource_allocation",
    priority: 5,
    deadline: null,
    parameters: {},
    requirements: {},
    timeoutMs: null,
    resultKey: null,
    maxAttempts: 3,
    attempts: 0,
    progress: null,
    result: null,
    error: null,
    allocation: null,
    runAt: T0,
    leaseOwner: null,
    leaseExpiresAt: null,
    lastSequence: 1,
    submitSeq: 1,
    createdAt: T0,
    updatedAt: T0,
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

function status(state: TaskState, event: StatusEvent, at: number, attempt?: number): TaskStatus {
  return {
    type: "task_status",
    header: {
      message_id: "s",
      reference_id: "m",
      timestamp: new Date(at).toISOString(),
      task_id: "t",
      sequence: 1,
    },
    body: { status: state, details: { event, ...(attempt !== undefined && { attempt }) } },
  };
}

/** Drives one task through accepted → started → finished at the given times. */
function run(
  activity: RecentActivity,
  clock: { now: number },
  submitter: string,
  waitMs: number,
  execMs: number,
  outcome: "completed" | "failed",
) {
  const created = clock.now;
  activity.onStatus(
    record({ submitter, createdAt: created }),
    status("resource_allocation", "task_accepted", created),
  );
  clock.now += waitMs;
  activity.onStatus(
    record({ submitter, createdAt: created, state: "executing", startedAt: clock.now }),
    status("executing", "execution_started", clock.now, 1),
  );
  const started = clock.now;
  clock.now += execMs;
  activity.onStatus(
    record({ submitter, createdAt: created, state: outcome, startedAt: started, finishedAt: clock.now }),
    status(outcome, outcome === "completed" ? "task_completed" : "task_failed", clock.now, 1),
  );
}

/** Tasks per kind over the whole window: steps of one second, each rate is a count. */
function totals(activity: RecentActivity, submitter?: string) {
  const points = activity.series(1, submitter);
  const sum = (pick: (p: (typeof points)[number]) => number) =>
    Math.round(points.reduce((n, p) => n + pick(p), 0));
  return {
    submitted: sum((p) => p.submitted_per_s),
    completed: sum((p) => p.completed_per_s),
    failed: sum((p) => p.failed_per_s),
  };
}

/** The step holding everything (T0 is a multiple of 900 s, and all happens within it). */
const lastStep = (activity: RecentActivity, submitter?: string) =>
  activity.series(ACTIVITY_WINDOW_S, submitter).at(-1)!;

describe("RecentActivity", () => {
  it("counts per second and gives wait and execution percentiles per step", () => {
    const clock = { now: T0 };
    const activity = new RecentActivity(() => clock.now);
    for (let i = 0; i < 100; i++)
      run(activity, clock, "alice", i + 1, 10 * (i + 1), i % 10 === 0 ? "failed" : "completed");
    expect(totals(activity)).toEqual({ submitted: 100, completed: 90, failed: 10 });
    const all = lastStep(activity);
    expect(all.error_rate).toBeCloseTo(0.1);
    // 100 samples fit in the reservoirs of the seconds they fell in: exact percentiles.
    expect(all.wait_ms).toEqual({ p50: 50, p95: 95, p99: 99 });
    expect(all.execution_ms).toEqual({ p50: 500, p95: 950, p99: 990 });
  });

  it("covers the last 15 minutes in steps, oldest first, and forgets what is older", () => {
    const clock = { now: T0 };
    const activity = new RecentActivity(() => clock.now);
    run(activity, clock, "alice", 5, 5, "completed");
    const points = activity.series(5);
    expect(points.length).toBeGreaterThanOrEqual(ACTIVITY_WINDOW_S / 5);
    expect(points.length).toBeLessThanOrEqual(ACTIVITY_WINDOW_S / 5 + 1);
    expect(points.map((p) => p.t)).toEqual([...points.map((p) => p.t)].sort((a, b) => a - b));
    expect(points.filter((p) => p.submitted_per_s > 0)).toHaveLength(1);
    expect(points[0]!.wait_ms).toBeNull();
    expect(points[0]!.error_rate).toBeNull();

    clock.now += ACTIVITY_WINDOW_S * 1000; // the same ring slot as the first run
    expect(activity.series(5).every((p) => p.submitted_per_s === 0 && p.completed_per_s === 0)).toBe(true);
    // A ring slot reused for a new second starts from zero.
    run(activity, clock, "alice", 1, 1, "completed");
    expect(totals(activity)).toEqual({ submitted: 1, completed: 1, failed: 0 });
  });

  it("keeps each submitter's activity apart from the others'", () => {
    const clock = { now: T0 };
    const activity = new RecentActivity(() => clock.now);
    run(activity, clock, "alice", 1, 1, "completed");
    run(activity, clock, "bob", 1, 1, "failed");
    run(activity, clock, "bob", 1, 1, "failed");
    const sum = (submitter?: string) => ({
      submitted: totals(activity, submitter).submitted,
      error_rate: lastStep(activity, submitter).error_rate,
    });
    expect(sum()).toEqual({ submitted: 3, error_rate: 2 / 3 });
    expect(sum("alice")).toEqual({ submitted: 1, error_rate: 0 });
    expect(sum("bob")).toEqual({ submitted: 2, error_rate: 1 });
    expect(sum("carol")).toEqual({ submitted: 0, error_rate: null });
  });

  it("counts what other processes on a shared store did as well (the charts are the cluster's)", () => {
    const clock = { now: T0 };
    const activity = new RecentActivity(() => clock.now);
    run(activity, clock, "alice", 10, 100, "completed");
    // Another process ran bob's task: its statuses come with the task's facts, not its record.
    const created = clock.now;
    const facts = { submitter: "bob", type: "noop", createdAt: created, startedAt: null };
    activity.onOtherStatus({ ...facts, status: status("resource_allocation", "task_accepted", created) });
    clock.now += 30;
    const started = clock.now;
    activity.onOtherStatus({
      ...facts,
      startedAt: started,
      status: status("executing", "execution_started", started, 1),
    });
    clock.now += 300;
    activity.onOtherStatus({
      ...facts,
      startedAt: started,
      status: status("failed", "task_failed", clock.now, 1),
    });
    expect(totals(activity)).toEqual({ submitted: 2, completed: 1, failed: 1 });
    expect(totals(activity, "bob")).toEqual({ submitted: 1, completed: 0, failed: 1 });
    expect(lastStep(activity, "bob").wait_ms).toEqual({ p50: 30, p95: 30, p99: 30 });
    expect(lastStep(activity, "bob").execution_ms).toEqual({ p50: 300, p95: 300, p99: 300 });
    expect(lastStep(activity).execution_ms).toEqual({ p50: 100, p95: 300, p99: 300 });
  });

  it("samples a busy second down to a fixed number of durations", () => {
    const clock = { now: T0 };
    const activity = new RecentActivity(() => clock.now);
    for (let i = 0; i < 10_000; i++) run(activity, clock, "alice", 0, 0, "completed");
    expect(totals(activity).completed).toBe(10_000);
    expect(lastStep(activity).execution_ms).toEqual({ p50: 0, p95: 0, p99: 0 });
  });
});
