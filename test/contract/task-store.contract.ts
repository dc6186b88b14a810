// The TaskStore port's definition: every backend runs this same suite (see *-task-store.test.ts).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidTransitionError } from "../../src/protocol/states.js";
import { LeaseLostError, StaleStateError } from "../../src/store/errors.js";
import type { TaskRecord } from "../../src/domain/records.js";
import type { ChangeOutcome, ReadyWorkSink, TaskStore } from "../../src/store/task-store.js";
import { randomBytes } from "node:crypto";
import { DataCipher } from "../../src/security/data-cipher.js";
import type { ResealCursor, ResealStep } from "../../src/store/reseal.js";
import type { ValueSeal } from "../../src/store/sealed-values.js";
import { draft, newTask } from "../helpers/tasks.js";

export interface StoreHarness {
  store: TaskStore;
  /** Closes the store and opens it again on the same data, keeping values as `seal` says. */
  reopen: (seal: ValueSeal) => Promise<TaskStore>;
  /** Migrations of this backend, for the up → down → up check. */
  migrate: (direction: "latest" | "up" | "down") => Promise<void>;
  migrationNames: () => Promise<{ name: string; applied: boolean }[]>;
  cleanup: () => Promise<void>;
}

export function describeTaskStoreContract(
  backend: string,
  open: (options: { onReady: ReadyWorkSink }) => Promise<StoreHarness>,
): void {
  describe(`TaskStore contract: ${backend}`, () => {
    let h: StoreHarness;
    let store: TaskStore;
    /** Where the store announces new work, in the test that listens. */
    let onReady: ReadyWorkSink | undefined;
    beforeEach(async () => {
      onReady = undefined;
      h = await open({ onReady: (work) => onReady?.(work) });
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it("inserts a task with its acceptance as status 1", async () => {
      const t = newTask({ priority: 7, parameters: { x: [1, 2] }, requirements: { cpu: 1 } });
      const [outcome] = await store.submitTasks([t]);
      expect(outcome!.created).toBe(true);
      expect(outcome!.task).toMatchObject({
        id: t.id,
        state: "resource_allocation",
        priority: 7,
        lastSequence: 1,
      });
      expect(outcome!.status.header).toMatchObject({ task_id: t.id, sequence: 1, reference_id: t.messageId });
      expect(outcome!.status.body).toEqual({
        status: "resource_allocation",
        details: { event: "task_accepted" },
      });
      const stored = await store.getTask(t.id);
      expect(stored).toMatchObject({ parameters: { x: [1, 2] }, requirements: { cpu: 1 }, attempts: 0 });
      expect(await store.getStatuses(t.id)).toHaveLength(1);
    });

    it("is idempotent on (submitter, message_id), and only on that pair", async () => {
      const first = newTask();
      await store.submitTasks([first]);
      const again = newTask({ messageId: first.messageId });
      const [dup] = await store.submitTasks([again]);
      expect(dup!.created).toBe(false);
      expect(dup!.task.id).toBe(first.id);
      expect(dup!.status.header.sequence).toBe(1);
      const [other] = await store.submitTasks([newTask({ messageId: first.messageId, submitter: "bob" })]);
      expect(other!.created).toBe(true);
      expect(other!.task.id).not.toBe(first.id);
    });

    it("records each submission's decision with its task in the same write, when asked", async () => {
      const first = newTask();
      await store.submitTasks([first], { principal: "alice", at: 1_000 });
      const again = newTask({ messageId: first.messageId });
      await store.submitTasks([again, newTask({ submitter: "bob" })], { principal: "alice", at: 2_000 });
      await store.submitTasks([newTask()]); // no audit asked: none written
      const entries = await store.queryAudit({ limit: 10 });
      expect(entries.map((e) => [e.action, e.decision, e.taskId, e.at])).toEqual([
        ["submit_task", "accepted", first.id, 1_000],
        ["submit_task", "duplicate", first.id, 2_000],
        ["submit_task", "accepted", expect.any(String), 2_000],
      ]);
      expect(entries[1]!.messageId).toBe(first.messageId);
    });

    it("announces the tasks a submission creates as ready work, with which were written; a start recorded on the announcement is kept, and one for a task found taken is refused", async () => {
      const stored = newTask();
      await store.submitTasks([stored]);
      const a = newTask();
      const takenInStore = newTask({ messageId: stored.messageId });
      const seen: string[][] = [];
      const written: Promise<readonly string[]>[] = [];
      const started: Promise<unknown>[] = [];
      onReady = (work) => {
        seen.push(work.tasks.map((t) => t.id));
        written.push(work.written);
        for (const task of work.tasks) {
          started.push(
            store.recordChange({
              taskId: task.id,
              known: task,
              from: ["resource_allocation"],
              to: "executing",
              status: draft({ event: "execution_started" }),
            }),
          );
        }
      };
      const outcomes = await store.submitTasks([a, newTask({ messageId: a.messageId }), takenInStore]);
      onReady = undefined;
      // Not a's twin in the same insert. A backend may announce before it knows of the stored
      // duplicate (then `written` leaves it out), or after.
      expect([[a.id, takenInStore.id], [a.id]]).toContainEqual(seen[0]);
      expect(seen).toHaveLength(1);
      expect(await written[0]).toEqual([a.id]);
      expect(outcomes.map((o) => o.created)).toEqual([true, false, false]);
      expect(outcomes[1]!.task.id).toBe(a.id);
      expect(outcomes[2]!.task.id).toBe(stored.id);
      const settled = await Promise.allSettled(started);
      // One start per task announced, always checked: a's is kept; the twin's, on a backend that
      // announced it, is refused.
      expect(settled).toHaveLength(seen[0]!.length);
      expect(settled[0]!.status).toBe("fulfilled");
      expect(settled.slice(1)).toEqual(
        seen[0]!.length > 1 ? [{ status: "rejected", reason: expect.any(StaleStateError) }] : [],
      );
      expect(await store.getTask(a.id)).toMatchObject({ state: "executing", lastSequence: 2 });
      expect(await store.getTask(takenInStore.id)).toBeUndefined();
      expect(await store.getTask(stored.id)).toMatchObject({ state: "resource_allocation", lastSequence: 1 });
      expect(await store.countByState()).toEqual({ resource_allocation: 1, executing: 1 });
    });

    it("tells onRecorded the outcome of a change before the change's promise resolves, and not for a refused one", async () => {
      const t = newTask();
      await store.submitTasks([t]);
      const seen: string[] = [];
      const started = store.recordChange(
        {
          taskId: t.id,
          from: ["resource_allocation"],
          to: "executing",
          patch: { attempts: 1 },
          status: draft({ event: "execution_started", attempt: 1 }),
        },
        {
          onRecorded: (outcome) =>
            seen.push(`recorded ${outcome.task.state} ${outcome.status.header.sequence}`),
        },
      );
      const outcome = await started;
      seen.push("resolved");
      expect(seen).toEqual(["recorded executing 2", "resolved"]);
      expect(outcome.task.lastSequence).toBe(2);
      const refused: string[] = [];
      await expect(
        store.recordChange(
          { taskId: t.id, from: ["resource_allocation"], to: "executing", status: draft() },
          { onRecorded: () => refused.push("recorded") },
        ),
      ).rejects.toBeInstanceOf(StaleStateError);
      expect(refused).toEqual([]);
    });

    it("deduplicates inside one batch and returns the outcomes in order", async () => {
      const a = newTask();
      const b = newTask({ messageId: a.messageId });
      const c = newTask();
      const outcomes = await store.submitTasks([a, b, c]);
      expect(outcomes.map((o) => o.created)).toEqual([true, false, true]);
      expect(outcomes[1]!.task.id).toBe(a.id);
    });

    it("applies a change only from the expected state, and only a legal one", async () => {
      const t = newTask();
      await store.submitTasks([t]);
      const { task, status } = await store.recordChange({
        taskId: t.id,
        from: ["resource_allocation"],
        to: "executing",
        patch: {
          attempts: 1,
          leaseOwner: "node-a",
          leaseExpiresAt: Date.now() + 1000,
          startedAt: Date.now(),
        },
        status: draft({ event: "execution_started", attempt: 1 }),
      });
      expect(task).toMatchObject({ state: "executing", attempts: 1, leaseOwner: "node-a", lastSequence: 2 });
      expect(status.header.sequence).toBe(2);
      await expect(
        store.recordChange({ taskId: t.id, from: ["resource_allocation"], to: "executing", status: draft() }),
      ).rejects.toBeInstanceOf(StaleStateError);
      await expect(
        store.recordChange({ taskId: t.id, from: ["executing"], to: "completed", status: draft() }),
      ).rejects.toBeInstanceOf(InvalidTransitionError);
      await expect(
        store.recordChange({ taskId: "no-such-task", from: ["executing"], to: "failed", status: draft() }),
      ).rejects.toBeInstanceOf(StaleStateError);
      // The failed attempts wrote nothing.
      expect((await store.getStatuses(t.id)).map((s) => s.header.sequence)).toEqual([1, 2]);
    });

    it("applies a sequence of changes atomically: all, each with its own status, or none", async () => {
      const t = newTask();
      await store.submitTasks([t]);
      await store.recordChange({
        taskId: t.id,
        from: ["resource_allocation"],
        to: "executing",
        status: draft(),
      });
      const outcomes = await store.recordChanges([
        { taskId: t.id, from: ["executing"], to: "completing", patch: { result: { n: 1 } }, status: draft() },
        {
          taskId: t.id,
          from: ["completing"],
          to: "completed",
          patch: { finishedAt: 5 },
          status: draft({ event: "task_completed" }),
        },
      ]);
      expect(outcomes.map((o) => [o.task.state, o.status.header.sequence])).toEqual([
        ["completing", 3],
        ["completed", 4],
      ]);
      expect(await store.getTask(t.id)).toMatchObject({
        state: "completed",
        result: { n: 1 },
        finishedAt: 5,
        lastSequence: 4,
      });
      const other = newTask();
      await store.submitTasks([other]);
      await expect(
        store.recordChanges([
          { taskId: other.id, from: ["resource_allocation"], to: "waiting", status: draft() },
          { taskId: other.id, from: ["executing"], to: "failed", status: draft() },
        ]),
      ).rejects.toBeInstanceOf(StaleStateError);
      expect(await store.getTask(other.id)).toMatchObject({ state: "resource_allocation", lastSequence: 1 });
    });

    it("treats a change's known record as a hint: a stale one is checked against the stored task", async () => {
      const t = newTask();
      const inserted: TaskRecord = (await store.submitTasks([t]))[0]!.task;
      const started = await store.recordChange({
        taskId: t.id,
        known: inserted,
        from: ["resource_allocation"],
        to: "executing",
        patch: { attempts: 1, leaseOwner: "node-a", leaseExpiresAt: 1_000 },
        status: draft({ event: "execution_started" }),
      });
      expect(started.task).toMatchObject({ state: "executing", lastSequence: 2, attempts: 1 });
      // Out of date (sequence 1) but the change is legal from the stored state: it applies there.
      const progressed = await store.recordChange({
        taskId: t.id,
        known: inserted,
        from: ["executing"],
        to: "executing",
        status: draft({ event: "progress_update" }, 0.5),
      });
      expect(progressed.task).toMatchObject({
        state: "executing",
        lastSequence: 3,
        attempts: 1,
        progress: 0.5,
      });
      // Out of date and the stored state refuses it: refused, nothing written.
      await expect(
        store.recordChange({
          taskId: t.id,
          known: inserted,
          from: ["resource_allocation"],
          to: "executing",
          status: draft(),
        }),
      ).rejects.toBeInstanceOf(StaleStateError);
      // A hint that claims a state the task is not in does not make the change legal.
      await expect(
        store.recordChange({
          taskId: t.id,
          known: { ...progressed.task, state: "completing" },
          from: ["completing"],
          to: "completed",
          status: draft(),
        }),
      ).rejects.toBeInstanceOf(StaleStateError);
      // A lease renewed since the hint was taken survives a change that does not set the lease.
      await store.renewLeases("node-a", [t.id], 9_000);
      const again = await store.recordChange({
        taskId: t.id,
        known: progressed.task,
        from: ["executing"],
        to: "executing",
        status: draft({ event: "progress_update" }, 0.7),
      });
      expect(again.task.lastSequence).toBe(4);
      expect((await store.getTask(t.id))!.leaseExpiresAt).toBe(9_000);
      // Two changes queued together from the same hint: the second sees the first.
      const [a, b] = await Promise.all([
        store.recordChange({
          taskId: t.id,
          known: again.task,
          from: ["executing"],
          to: "executing",
          status: draft({ event: "progress_update" }, 0.8),
        }),
        store.recordChanges([
          { taskId: t.id, known: again.task, from: ["executing"], to: "completing", status: draft() },
          { taskId: t.id, from: ["completing"], to: "completed", patch: { finishedAt: 7 }, status: draft() },
        ]),
      ]);
      expect(a.status.header.sequence).toBe(5);
      expect(b.map((o) => o.status.header.sequence)).toEqual([6, 7]);
      expect((await store.getStatuses(t.id)).map((s) => s.header.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(await store.getTask(t.id)).toMatchObject({ state: "completed", lastSequence: 7, finishedAt: 7 });
    });

    it("clears a field with null and keeps it with undefined", async () => {
      const t = newTask();
      await store.submitTasks([t]);
      await store.recordChange({
        taskId: t.id,
        from: ["resource_allocation"],
        to: "executing",
        patch: { leaseOwner: "n", leaseExpiresAt: 5 },
        status: draft(),
      });
      const { task } = await store.recordChange({
        taskId: t.id,
        from: ["executing"],
        to: "waiting",
        patch: { leaseOwner: null, leaseExpiresAt: null, runAt: 42 },
        status: draft({ event: "retry_scheduled" }),
      });
      expect(task).toMatchObject({ leaseOwner: null, leaseExpiresAt: null, runAt: 42 });
    });

    it("numbers statuses without gaps under concurrent writers", async () => {
      const tasks = [newTask(), newTask(), newTask()];
      await store.submitTasks(tasks);
      for (const t of tasks) {
        await store.recordChange({
          taskId: t.id,
          from: ["resource_allocation"],
          to: "executing",
          status: draft(),
        });
      }
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 100; i++) {
        for (const t of tasks) {
          writes.push(
            store.recordChange({
              taskId: t.id,
              from: ["executing"],
              to: "executing",
              status: draft({ event: "progress_update" }, i / 100),
            }),
          );
        }
        if (i % 7 === 0) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(writes);
      for (const t of tasks) {
        const sequences = (await store.getStatuses(t.id)).map((s) => s.header.sequence);
        expect(sequences).toEqual(Array.from({ length: 102 }, (_, i) => i + 1));
        const progress = (await store.getStatuses(t.id, 2)).map((s) => s.body.progress);
        expect(progress).toEqual(Array.from({ length: 100 }, (_, i) => i / 100));
      }
    });

    // A handler that reports progress without awaiting it: every change carries the same hint.
    it("commits changes made on one hint without waiting in the order they were made", async () => {
      const [inserted] = await store.submitTasks([newTask()]);
      const executing = await store.recordChange({
        taskId: inserted!.task.id,
        known: inserted!.task,
        from: ["resource_allocation"],
        to: "executing",
        status: draft(),
      });
      const progress = async (known: TaskRecord, n: number, yieldEvery: number) => {
        const writes: Promise<ChangeOutcome>[] = [];
        for (let i = 0; i < n; i++) {
          writes.push(
            store.recordChange({
              taskId: known.id,
              known,
              from: ["executing"],
              to: "executing",
              status: draft({ event: "progress_update" }, i / n),
            }),
          );
          if (i % yieldEvery === 0) await new Promise((r) => setImmediate(r));
        }
        return Promise.all(writes);
      };
      const fresh = await progress(executing.task, 40, 6);
      expect(fresh.map((o) => o.status.header.sequence)).toEqual(range(3, 40));
      // The same again on a hint that is out of date (40 changes behind): each is checked against
      // the stored task, and they still land in order.
      const stale = await progress(executing.task, 40, 9);
      expect(stale.map((o) => o.status.header.sequence)).toEqual(range(43, 40));
      const stored = (await store.getStatuses(executing.task.id, 2)).map((s) => s.body.progress);
      expect(stored).toEqual([...range(0, 40), ...range(0, 40)].map((i) => i / 40));
    });

    it("returns statuses after a given sequence", async () => {
      const t = newTask();
      await store.submitTasks([t]);
      await store.recordChange({
        taskId: t.id,
        from: ["resource_allocation"],
        to: "waiting",
        status: draft(),
      });
      await store.recordChange({ taskId: t.id, from: ["waiting"], to: "cancelled", status: draft() });
      const after1 = await store.getStatuses(t.id, 1);
      expect(after1.map((s) => s.body.status)).toEqual(["waiting", "cancelled"]);
      expect(await store.getStatuses(t.id, 3)).toEqual([]);
    });

    it("hands out ready tasks by priority, then deadline, then submission order", async () => {
      const now = Date.now();
      const low = newTask({ priority: 1 });
      const highLate = newTask({ priority: 9, deadline: now + 60_000 });
      const highNoDeadline = newTask({ priority: 9 });
      const highEarly = newTask({ priority: 9, deadline: now + 1_000 });
      const mid1 = newTask({ priority: 5 });
      const mid2 = newTask({ priority: 5 });
      await store.submitTasks([low, highLate, highNoDeadline, highEarly, mid1, mid2]);
      const ready = await store.fetchReady(10);
      expect(ready.map((t) => t.id)).toEqual([
        highEarly.id,
        highLate.id,
        highNoDeadline.id,
        mid1.id,
        mid2.id,
        low.id,
      ]);
      expect((await store.fetchReady(2)).map((t) => t.id)).toEqual([highEarly.id, highLate.id]);
      // Keyset pages continue exactly after a given task.
      const [, second] = await store.fetchReady(2);
      expect((await store.fetchReady(10, second)).map((t) => t.id)).toEqual([
        highNoDeadline.id,
        mid1.id,
        mid2.id,
        low.id,
      ]);
      expect((await store.fetchReady(2, ready[2])).map((t) => t.id)).toEqual([mid1.id, mid2.id]);
      expect((await store.fetchReady(10, ready[3])).map((t) => t.id)).toEqual([mid2.id, low.id]);
      expect(await store.fetchReady(10, ready[5])).toEqual([]);
    });

    it("tracks leases: renewal, expiry and dead owners", async () => {
      const now = Date.now();
      const [a, b, c] = [newTask(), newTask(), newTask()];
      await store.submitTasks([a, b, c]);
      const lease = (id: string, owner: string, expires: number) =>
        store.recordChange({
          taskId: id,
          from: ["resource_allocation"],
          to: "executing",
          patch: { leaseOwner: owner, leaseExpiresAt: expires },
          status: draft(),
        });
      await lease(a.id, "node-1", now + 60_000);
      await lease(b.id, "node-1", now - 1);
      await lease(c.id, "node-2", now + 60_000);
      expect((await store.leaseOwners()).sort()).toEqual(["node-1", "node-2"]);
      expect((await store.fetchLostLeases(now, [], 10)).map((t) => t.id)).toEqual([b.id]);
      expect((await store.fetchLostLeases(now, ["node-2"], 10)).map((t) => t.id).sort()).toEqual(
        [b.id, c.id].sort(),
      );
      expect(await store.renewLeases("node-1", [a.id, b.id, c.id], now + 120_000)).toBe(2);
      expect(await store.fetchLostLeases(now, [], 10)).toEqual([]);
      expect((await store.getTask(b.id))!.leaseExpiresAt).toBe(now + 120_000);
      expect((await store.getTask(c.id))!.leaseExpiresAt).toBe(now + 60_000);
    });

    it("fences a lease holder's changes: once its lease went to another owner or attempt, it writes nothing", async () => {
      const [inserted] = await store.submitTasks([newTask()]);
      const start = (known: TaskRecord, owner: string, attempt: number) =>
        store.recordChange({
          taskId: known.id,
          known,
          from: ["resource_allocation"],
          to: "executing",
          patch: { attempts: attempt, leaseOwner: owner, leaseExpiresAt: Date.now() + 60_000 },
          status: draft({ event: "execution_started", attempt }),
        });
      const progress = (known: TaskRecord, owner: string, attempt: number) =>
        store.recordChange({
          taskId: known.id,
          known,
          from: ["executing"],
          to: "executing",
          holder: { owner, attempt },
          status: draft({ event: "progress_update" }, 0.5),
        });
      const first = await start(inserted!.task, "node-a", 1);
      await progress(first.task, "node-a", 1);
      // Recovered (node-a was lost), retried, and started again by node-b.
      const lost = await store.recordChange({
        taskId: first.task.id,
        from: ["executing"],
        to: "waiting",
        patch: { leaseOwner: null, leaseExpiresAt: null },
        status: draft({ event: "retry_scheduled" }),
      });
      const back = await store.recordChange({
        taskId: lost.task.id,
        known: lost.task,
        from: ["waiting"],
        to: "resource_allocation",
        status: draft(),
      });
      const second = await start(back.task, "node-b", 2);
      await expect(progress(first.task, "node-a", 1)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(progress(second.task, "node-b", 1)).rejects.toBeInstanceOf(StaleStateError);
      expect((await progress(second.task, "node-b", 2)).status.header.sequence).toBe(7);
    });

    it("gives a duty to one taker at a time, and to the next within its retry once the holder lets go", async () => {
      const retryMs = 50;
      const first = await store.soleDuty("contract-duty", retryMs);
      const second = await store.soleDuty("contract-duty", retryMs);
      const other = await store.soleDuty("another-duty", retryMs);
      expect([first.mine, second.mine, other.mine]).toEqual([true, false, true]);
      // Still the first's a while later: the waiting taker keeps trying, and keeps failing.
      await new Promise((r) => setTimeout(r, retryMs * 3));
      expect([first.mine, second.mine]).toEqual([true, false]);
      await first.release();
      expect(first.mine).toBe(false);
      const until = Date.now() + 5_000;
      while (!second.mine && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(second.mine).toBe(true);
      await Promise.all([second.release(), other.release()]);
    });

    it("claims ready tasks for one owner at a time, best first; a given-back claim, or a lapsed one once released, is free again", async () => {
      if (store.claimReady === undefined || store.releaseClaims === undefined) {
        // One process takes all the work of such a store: it has nothing to claim from others.
        expect(store.capabilities.concurrentClaims).toBe(false);
        return;
      }
      expect(store.capabilities.concurrentClaims).toBe(true);
      const now = Date.now();
      const [low, high, mid] = [newTask({ priority: 1 }), newTask({ priority: 9 }), newTask({ priority: 5 })];
      await store.submitTasks([low, high, mid]);
      const a = await store.claimReady("node-a", 2, now + 10_000);
      expect(a.map((t) => t.id)).toEqual([high.id, mid.id]);
      expect(a[0]!.leaseOwner).toBe("node-a");
      // Another owner gets what is left; nothing twice.
      expect((await store.claimReady("node-b", 5, now + 10_000)).map((t) => t.id)).toEqual([low.id]);
      expect(await store.claimReady("node-c", 5, now + 10_000)).toEqual([]);
      // Given back: free again.
      await store.releaseClaims("node-a", [mid.id]);
      expect((await store.claimReady("node-c", 5, now + 10_000)).map((t) => t.id)).toEqual([mid.id]);
      // Lapsed: held until released (the sweep's job), then free again; live claims stay.
      expect(await store.releaseLapsedClaims!(now + 5_000, 10)).toBe(0);
      expect(await store.releaseLapsedClaims!(now + 20_000, 10)).toBe(3);
      expect((await store.getTask(high.id))!.leaseOwner).toBeNull();
      expect((await store.claimReady("node-c", 5, now + 30_000)).map((t) => t.id)).toEqual([
        high.id,
        mid.id,
        low.id,
      ]);
      // A claim is not a lease: recovery does not see it, and a started task is never claimed.
      expect(await store.fetchLostLeases(now + 60_000, ["node-c"], 10)).toEqual([]);
      await store.recordChange({
        taskId: high.id,
        from: ["resource_allocation"],
        to: "executing",
        patch: { leaseOwner: "node-c", leaseExpiresAt: now + 60_000 },
        status: draft(),
      });
      await store.releaseClaims("node-c");
      expect((await store.claimReady("node-d", 5, now + 10_000)).map((t) => t.id)).toEqual([mid.id, low.id]);
      expect((await store.getTask(high.id))!.leaseOwner).toBe("node-c");
    });

    it("claims named tasks (a broker's message) only while they are ready and free; stale names are left out", async () => {
      if (store.claimTasks === undefined) {
        expect(store.capabilities.concurrentClaims).toBe(false);
        return;
      }
      const now = Date.now();
      const [a, b, c] = [newTask({ priority: 1 }), newTask({ priority: 9 }), newTask()];
      await store.submitTasks([a, b, c]);
      expect(
        (await store.claimTasks("w1", [a.id, b.id, "no-such-task"], now, now + 10_000)).map((t) => t.id),
      ).toEqual([b.id, a.id]);
      // Held by w1: not for w2, again for w1 (a redelivery to the same worker), for anyone once lapsed.
      expect(await store.claimTasks("w2", [a.id], now, now + 10_000)).toEqual([]);
      expect((await store.claimTasks("w1", [a.id], now, now + 10_000)).map((t) => t.id)).toEqual([a.id]);
      expect(
        (await store.claimTasks("w2", [a.id], now + 20_000, now + 30_000)).map((t) => t.leaseOwner),
      ).toEqual(["w2"]);
      // Started or finished: never claimed again.
      await store.recordChange({
        taskId: c.id,
        from: ["resource_allocation"],
        to: "cancelled",
        status: draft(),
      });
      expect(await store.claimTasks("w3", [c.id], now + 60_000, now + 70_000)).toEqual([]);
    });

    it("finds due retries and overdue queued tasks, and knows when to wake next", async () => {
      const now = Date.now();
      expect(await store.nextWakeAt()).toBeNull();
      const [due, later, overdue] = [newTask(), newTask(), newTask({ deadline: now - 5 })];
      await store.submitTasks([due, later, overdue]);
      const retry = (id: string, runAt: number) =>
        store.recordChange({
          taskId: id,
          from: ["resource_allocation"],
          to: "waiting",
          patch: { runAt },
          status: draft(),
        });
      await retry(due.id, now - 10);
      await retry(later.id, now + 10_000);
      expect((await store.fetchDueRetries(now, 10)).map((t) => t.id)).toEqual([due.id]);
      expect((await store.fetchOverdue(now, 10)).map((t) => t.id)).toEqual([overdue.id]);
      expect(await store.nextWakeAt()).toBe(now - 10);
    });

    it("lists a submitter's tasks newest first, filtered, a page at a time", async () => {
      const mine = [newTask({ type: "a" }), newTask({ type: "beta" }), newTask({ type: "a" })];
      await store.submitTasks(mine);
      await store.submitTasks([newTask({ submitter: "bob", type: "a" })]);
      const page1 = await store.listTasks({ submitter: "alice", limit: 2 });
      expect(page1.map((t) => t.id)).toEqual([mine[2]!.id, mine[1]!.id]);
      const page2 = await store.listTasks({ submitter: "alice", limit: 2, beforeSeq: page1[1]!.submitSeq });
      expect(page2.map((t) => t.id)).toEqual([mine[0]!.id]);
      expect((await store.listTasks({ submitter: "alice", type: "a", limit: 10 })).length).toBe(2);
      expect((await store.listTasks({ type: "a", limit: 10 })).length).toBe(3);
      expect((await store.listTasks({ state: "executing", limit: 10 })).length).toBe(0);
      expect(await store.countByState()).toEqual({ resource_allocation: 4 });
      expect(await store.countByState("bob")).toEqual({ resource_allocation: 1 });
      expect(await store.countByState("nobody")).toEqual({});
      // Text: the start of the id, the start of the reference id, or any part of the type ("et": not hex).
      const byId = await store.listTasks({ text: mine[1]!.id.slice(0, 30), limit: 10 });
      expect(byId.map((t) => t.id)).toEqual([mine[1]!.id]);
      const byReference = await store.listTasks({ text: mine[0]!.messageId, limit: 10 });
      expect(byReference.map((t) => t.id)).toEqual([mine[0]!.id]);
      expect((await store.listTasks({ submitter: "alice", text: "et", limit: 10 })).map((t) => t.id)).toEqual(
        [mine[1]!.id],
      );
      expect(await store.listTasks({ text: "no-such-thing", limit: 10 })).toEqual([]);
      expect(await store.queueDepth()).toEqual({ "5": 4 });
    });

    it("finds the ids an abbreviation stands for: by prefix, by prefix and suffix, by suffix, one submitter's", async () => {
      const ids = [
        "01aa0000-0000-7000-8000-00000000beef",
        "01aa0000-0000-7000-8000-00000000cafe",
        "01aa0001-0000-7000-8000-00000000cafe",
        "01ab0000-0000-7000-8000-00000000cafe",
      ];
      await store.submitTasks(ids.slice(0, 3).map((id) => newTask({ id })));
      await store.submitTasks([newTask({ id: ids[3], submitter: "bob" })]);
      expect(await store.findTaskIds({ prefix: "01aa0000" }, 10)).toEqual(ids.slice(0, 2));
      expect(await store.findTaskIds({ prefix: "01aa" }, 2)).toEqual(ids.slice(0, 2));
      expect(await store.findTaskIds({ prefix: "01aa0000", suffix: "cafe" }, 10)).toEqual([ids[1]]);
      expect(await store.findTaskIds({ prefix: "01a", suffix: "cafe", submitter: "alice" }, 10)).toEqual(
        ids.slice(1, 3),
      );
      expect(await store.findTaskIds({ prefix: "01ab", submitter: "alice" }, 10)).toEqual([]);
      expect(await store.findTaskIds({ prefix: "01ab" }, 10)).toEqual([ids[3]]);
      // By its end alone (the random part), as people copy it when the starts are alike.
      expect(await store.findTaskIds({ prefix: "", suffix: "0000beef" }, 10)).toEqual([ids[0]]);
      expect(await store.findTaskIds({ prefix: "", suffix: "0000cafe", submitter: "bob" }, 10)).toEqual([
        ids[3],
      ]);
    });

    it("sums a submitter's unfinished tasks and their requirements", async () => {
      const [a, b, done, other] = [
        newTask({ requirements: { cpu: 1, gpu: 1 } }),
        newTask({ requirements: { cpu: 2.5 } }),
        newTask({ requirements: { cpu: 8 } }),
        newTask({ submitter: "bob", requirements: { cpu: 3 } }),
      ];
      await store.submitTasks([a, b, done, other]);
      await store.recordChange({
        taskId: done.id,
        from: ["resource_allocation"],
        to: "cancelled",
        status: draft(),
      });
      expect(await store.activeUsage("alice")).toEqual({ tasks: 2, resources: { cpu: 3.5, gpu: 1 } });
      expect(await store.activeUsage("nobody")).toEqual({ tasks: 0, resources: {} });
    });

    it("holds inserts to a quota atomically: racing inserts never share room; finishing frees it", async () => {
      const quota = { maxTasks: 3 };
      const racing = await Promise.all(
        Array.from({ length: 10 }, () => store.submitTasks([newTask()], undefined, { quota })),
      );
      const outcomes = racing.flat();
      expect(outcomes.filter((o) => o.created)).toHaveLength(3);
      expect(outcomes.filter((o) => o.refused?.code === "quota_exceeded")).toHaveLength(7);
      expect(await store.activeUsage("alice")).toMatchObject({ tasks: 3 });

      // Resources, judged message by message within one batch; another submitter has its own room.
      const cpuQuota = { maxResources: { cpu: 2 } };
      const batch = await store.submitTasks(
        [1, 2, 3].map(() => newTask({ submitter: "bob", requirements: { cpu: 1 } })),
        undefined,
        { quota: cpuQuota },
      );
      expect(batch.map((o) => o.created)).toEqual([true, true, false]);
      expect(batch[2]!.refused?.message).toMatch(/cpu/);
      // A kind named like a member of Object.prototype is a kind like any other.
      const odd = await store.submitTasks(
        [newTask({ submitter: "carol", requirements: { constructor: 1 } })],
        undefined,
        { quota: { maxResources: { cpu: 1 } } },
      );
      expect(odd[0]!.created).toBe(true);

      await store.recordChange({
        taskId: outcomes.find((o) => o.created)!.task!.id,
        from: ["resource_allocation"],
        to: "cancelled",
        status: draft(),
      });
      const [after] = await store.submitTasks([newTask()], undefined, { quota });
      expect(after!.created).toBe(true);
      const [full] = await store.submitTasks([newTask()], undefined, { quota });
      expect(full!.refused?.code).toBe("quota_exceeded");
    });

    it("appends and queries the audit trail", async () => {
      const at = Date.now();
      await store.appendAudit([
        {
          at,
          principal: "alice",
          action: "submit_task",
          messageId: "m1",
          taskId: "t1",
          decision: "accepted",
        },
        {
          at: at + 1,
          principal: "bob",
          action: "submit_task",
          messageId: "m2",
          taskId: null,
          decision: "rejected",
          payload: { errors: 2 },
        },
        {
          at: at + 2,
          principal: "alice",
          action: "cancel_task",
          messageId: "m3",
          taskId: "t1",
          decision: "cancelled",
        },
      ]);
      expect((await store.queryAudit({ limit: 10 })).map((e) => e.decision)).toEqual([
        "accepted",
        "rejected",
        "cancelled",
      ]);
      expect((await store.queryAudit({ taskId: "t1", limit: 10 })).map((e) => e.action)).toEqual([
        "submit_task",
        "cancel_task",
      ]);
      const bob = await store.queryAudit({ principal: "bob", limit: 10 });
      expect(bob).toHaveLength(1);
      expect(bob[0]!.payload).toEqual({ errors: 2 });
      expect(await store.queryAudit({ since: at + 2, limit: 10 })).toHaveLength(1);
      const newest = await store.queryAudit({ newestFirst: true, limit: 2 });
      expect(newest.map((e) => e.id)).toEqual([...newest.map((e) => e.id)].sort((a, b) => b - a));
      const older = await store.queryAudit({ newestFirst: true, beforeId: newest[1]!.id, limit: 10 });
      expect([...newest, ...older].map((e) => e.id).reverse()).toEqual(
        (await store.queryAudit({ limit: 10 })).map((e) => e.id),
      );
    });

    it("removes finished tasks past retention with their statuses, and keeps the rest", async () => {
      const [old, fresh, running] = [newTask(), newTask(), newTask()];
      await store.submitTasks([old, fresh, running]);
      const finish = (id: string, at: number) =>
        store.recordChange({
          taskId: id,
          from: ["resource_allocation"],
          to: "cancelled",
          patch: { finishedAt: at },
          status: draft(),
        });
      await finish(old.id, 1000);
      await finish(fresh.id, Date.now());
      expect(await store.deleteFinishedBefore(Date.now() - 60_000, 100)).toBe(1);
      expect(await store.getTask(old.id)).toBeUndefined();
      expect(await store.getStatuses(old.id)).toEqual([]);
      expect(await store.getTask(fresh.id)).toBeDefined();
      expect(await store.getTask(running.id)).toBeDefined();
    });

    it("counts tasks per state as they are inserted, change state (one by one and in sequences), are refused and are removed", async () => {
      const [a, b, c] = [newTask(), newTask(), newTask({ submitter: "bob" })];
      await store.submitTasks([a, b, c, newTask({ messageId: a.messageId })]);
      expect(await store.countByState()).toEqual({ resource_allocation: 3 });
      await store.recordChange({
        taskId: a.id,
        from: ["resource_allocation"],
        to: "executing",
        status: draft(),
      });
      await store.recordChanges([
        { taskId: c.id, from: ["resource_allocation"], to: "waiting", status: draft() },
        { taskId: c.id, from: ["waiting"], to: "failed", patch: { finishedAt: 1000 }, status: draft() },
      ]);
      // Refused changes move nothing.
      await expect(
        store.recordChange({ taskId: b.id, from: ["executing"], to: "completing", status: draft() }),
      ).rejects.toBeInstanceOf(StaleStateError);
      expect(await store.countByState()).toEqual({ resource_allocation: 1, executing: 1, failed: 1 });
      expect(await store.countByState("alice")).toEqual({ resource_allocation: 1, executing: 1 });
      expect(await store.countByState("bob")).toEqual({ failed: 1 });
      expect(await store.deleteFinishedBefore(Date.now(), 10)).toBe(1);
      expect(await store.countByState("bob")).toEqual({});
      expect(await store.countByState()).toEqual({ resource_allocation: 1, executing: 1 });
    });

    it("keeps values sealed, reads them back, and reseals under a new key while writes go on, losing none", async () => {
      const at = Date.now();
      const tasks = range(0, 12).map((i) => newTask({ parameters: { secret: `canary-${i}` } }));
      await store.submitTasks(tasks.slice(0, 4), { principal: "alice", at });
      await store.appendAudit([
        {
          at,
          principal: "alice",
          action: "submit_task",
          messageId: "m",
          taskId: null,
          decision: "rejected",
          payload: { why: "canary-audit" },
        },
      ]);
      // In clear first (no key yet), then under key 1, then key 2 with key 1 still read.
      const key1Bytes = randomBytes(32);
      store = await h.reopen(new DataCipher([key1Bytes]));
      expect((await store.getTask(tasks[0]!.id))?.parameters).toEqual({ secret: "canary-0" });
      await store.submitTasks(tasks.slice(4, 8), { principal: "alice", at });
      const key2Bytes = randomBytes(32);
      store = await h.reopen(new DataCipher([key2Bytes, key1Bytes]));
      await store.submitTasks(tasks.slice(8), { principal: "alice", at });
      for (const [from, to] of [
        ["resource_allocation", "executing"],
        ["executing", "completing"],
      ] as const)
        await store.recordChange({ taskId: tasks[1]!.id, from: [from], to, status: draft() });
      const done = await store.recordChange({
        taskId: tasks[1]!.id,
        from: ["completing"],
        to: "completed",
        patch: { result: { answer: "canary-result" }, finishedAt: at },
        status: draft({ result: { answer: "canary-result" } }),
      });
      expect(done.task.result).toEqual({ answer: "canary-result" });
      // Reseal step by step, with a writer changing a task between the steps.
      let cursor: ResealCursor | null = null;
      let rewritten = 0;
      let steps = 0;
      do {
        const step: ResealStep = await store.resealStored(cursor, 5);
        rewritten += step.rewritten;
        cursor = step.cursor;
        if (steps++ === 1) {
          await store.recordChange({
            taskId: tasks[2]!.id,
            from: ["resource_allocation"],
            to: "executing",
            status: draft(),
          });
          await store.recordChange({
            taskId: tasks[2]!.id,
            from: ["executing"],
            to: "failed",
            patch: {
              error: { code: "handler_error", message: "canary-error", retryable: false },
              finishedAt: at,
            },
            status: draft({ error: { code: "handler_error", message: "canary-error" } }),
          });
        }
      } while (cursor !== null && steps < 100);
      expect(cursor).toBeNull();
      expect(rewritten).toBeGreaterThanOrEqual(8 + 8 + 1);
      // Key 1 forgotten: everything must be under key 2 now, and read as written.
      store = await h.reopen(new DataCipher([key2Bytes]));
      for (const [i, t] of tasks.entries())
        expect((await store.getTask(t.id))?.parameters).toEqual({ secret: `canary-${i}` });
      expect((await store.getTask(tasks[1]!.id))?.result).toEqual({ answer: "canary-result" });
      expect((await store.getTask(tasks[2]!.id))?.error).toMatchObject({ message: "canary-error" });
      const statuses = await store.getStatuses(tasks[1]!.id);
      expect(statuses.at(-1)!.body.details).toMatchObject({ result: { answer: "canary-result" } });
      const audit = await store.queryAudit({ principal: "alice", limit: 100 });
      expect(audit.map((a) => a.payload)).toContainEqual({ why: "canary-audit" });
      // Nothing left to reseal.
      expect(await store.resealStored(null, 100)).toEqual({ rewritten: 0, cursor: null });
    });

    it("migrates up → down → up", async () => {
      const before = await h.migrationNames();
      expect(before.length).toBeGreaterThan(0);
      expect(before.every((m) => m.applied)).toBe(true);
      await h.store.close();
      for (let i = 0; i < before.length; i++) await h.migrate("down");
      expect((await h.migrationNames()).every((m) => !m.applied)).toBe(true);
      await h.migrate("latest");
      expect((await h.migrationNames()).every((m) => m.applied)).toBe(true);
    });
  });
}

/** `count` consecutive integers from `start`. */
function range(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i);
}
