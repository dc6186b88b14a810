// The StatusFeed port's definition: every backend with other writers runs this suite
// (see *-status-feed.test.ts). `write` stands for another process writing the shared store.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ObservedStatus } from "../../src/domain/records.js";
import type { TaskStore } from "../../src/store/task-store.js";
import type { StatusFeed } from "../../src/transport/status-feed.js";
import { draft, newTask } from "../helpers/tasks.js";

export interface FeedHarness {
  feed: StatusFeed;
  /** Another process's store on the same backend. */
  other: TaskStore;
  /** This process's store (what it writes is not news to its own feed). */
  own: TaskStore;
  /** Cuts the feed's connection, as a database restart would. */
  cut: () => Promise<void>;
  cleanup: () => Promise<void>;
}

export function describeStatusFeedContract(backend: string, open: () => Promise<FeedHarness>): void {
  describe(`StatusFeed contract: ${backend}`, () => {
    let h: FeedHarness;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    const heard = async () => {
      const got: ObservedStatus[] = [];
      const stop = await h.feed.listen((observed) => got.push(...observed));
      return { got, stop };
    };

    it("delivers what another process writes, each task's statuses in order, with the task's facts", async () => {
      const { got } = await heard();
      const task = newTask({ submitter: "bob", type: "noop" });
      await h.other.submitTasks([task]);
      const started = await h.other.recordChange({
        taskId: task.id,
        from: ["resource_allocation"],
        to: "executing",
        patch: { startedAt: 5_000, attempts: 1 },
        status: draft({ event: "execution_started", attempt: 1 }),
      });
      await h.other.recordChanges([
        { taskId: task.id, known: started.task, from: ["executing"], to: "completing", status: draft() },
        {
          taskId: task.id,
          from: ["completing"],
          to: "completed",
          status: draft({ event: "task_completed" }),
        },
      ]);
      await vi.waitFor(() => expect(got).toHaveLength(4));
      expect(got.map((o) => [o.status.header.sequence, o.status.body.status])).toEqual([
        [1, "resource_allocation"],
        [2, "executing"],
        [3, "completing"],
        [4, "completed"],
      ]);
      expect(got[3]).toMatchObject({
        submitter: "bob",
        type: "noop",
        createdAt: task.createdAt,
        startedAt: 5_000,
      });
    });

    it("does not deliver what this process wrote, nor anything once it stopped listening", async () => {
      const { got, stop } = await heard();
      await h.own.submitTasks([newTask()]);
      const marker = newTask();
      await h.other.submitTasks([marker]);
      await vi.waitFor(() => expect(got).toHaveLength(1));
      expect(got[0]!.status.header.task_id).toBe(marker.id);
      await stop();
      await h.other.submitTasks([newTask()]);
      await new Promise((r) => setTimeout(r, 200));
      expect(got).toHaveLength(1);
    });

    it("hears again by itself after its connection is cut", async () => {
      const { got } = await heard();
      await h.cut();
      await vi.waitFor(
        async () => {
          await h.other.submitTasks([newTask()]);
          expect(got.length).toBeGreaterThan(0);
        },
        { timeout: 10_000, interval: 300 },
      );
    });
  });
}
