// The StatusBus port's definition: every transport runs this same suite (see *-status-bus.test.ts).
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TaskStatus } from "../../src/protocol/task-status.js";
import type { RoutedStatus, StatusBus } from "../../src/transport/status-bus.js";

export interface BusHarness {
  bus: StatusBus;
  /** Resolves once every status published so far has reached its listeners. */
  settle: () => Promise<void>;
  /** Another process's bus on the same broker, for transports that reach other processes. */
  peer?: () => Promise<StatusBus & { close(): Promise<void> }>;
  cleanup: () => Promise<void>;
}

/** A task's status message number `sequence`. */
export function status(
  taskId: string,
  sequence: number,
  state: TaskStatus["body"]["status"] = "executing",
): TaskStatus {
  return {
    type: "task_status",
    header: {
      message_id: randomUUID(),
      reference_id: `ref-${taskId}`,
      timestamp: new Date().toISOString(),
      task_id: taskId,
      sequence,
    },
    body: { status: state },
  };
}

/** A status of a task of `submitter`, as the bus takes it. */
export function routed(
  taskId: string,
  sequence: number,
  state: TaskStatus["body"]["status"] = "executing",
  submitter = "alice",
): RoutedStatus {
  return { submitter, status: status(taskId, sequence, state) };
}

export function describeStatusBusContract(
  transport: string,
  open: () => Promise<BusHarness>,
  options: { acrossProcesses?: boolean } = {},
): void {
  describe(`StatusBus contract: ${transport}`, () => {
    let h: BusHarness;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it("delivers a task's statuses to its subscribers, in order, and no other task's", async () => {
      const seen: number[] = [];
      const other: number[] = [];
      await h.bus.subscribe("t1", (s) => seen.push(s.header.sequence));
      await h.bus.subscribe("t2", (s) => other.push(s.header.sequence));
      await h.bus.publish([routed("t1", 1), routed("t1", 2)]);
      await h.bus.publish([routed("t1", 3), routed("t3", 1)]);
      await h.settle();
      expect(seen).toEqual([1, 2, 3]);
      expect(other).toEqual([]);
    });

    it("delivers every task's statuses to subscribeAll, each task's in order", async () => {
      const seen: string[] = [];
      await h.bus.subscribeAll((s) => seen.push(`${s.header.task_id}:${s.header.sequence}`));
      await h.bus.publish([routed("a", 1), routed("b", 1), routed("a", 2)]);
      await h.settle();
      expect(seen.filter((k) => k.startsWith("a:"))).toEqual(["a:1", "a:2"]);
      expect(seen).toContain("b:1");
      expect(seen).toHaveLength(3);
    });

    it("listens once the subscription resolves: a status published after it is heard", async () => {
      const seen: number[] = [];
      const subscribed = h.bus.subscribe("t1", (s) => seen.push(s.header.sequence));
      await subscribed;
      await h.bus.publish([routed("t1", 1)]);
      await h.settle();
      expect(seen).toEqual([1]);
    });

    it("stops delivering after unsubscribe, to that listener only", async () => {
      const first: number[] = [];
      const second: number[] = [];
      const all: number[] = [];
      const stop = await h.bus.subscribe("t1", (s) => first.push(s.header.sequence));
      await h.bus.subscribe("t1", (s) => second.push(s.header.sequence));
      const stopAll = await h.bus.subscribeAll((s) => all.push(s.header.sequence));
      await h.bus.publish([routed("t1", 1)]);
      await h.settle();
      stop();
      stopAll();
      await h.bus.publish([routed("t1", 2)]);
      await h.settle();
      expect(first).toEqual([1]);
      expect(all).toEqual([1]);
      expect(second).toEqual([1, 2]);
    });

    // Only for transports that reach other processes (the harness gives a peer).
    const acrossProcesses = options.acrossProcesses ? it : undefined;
    acrossProcesses?.(
      "reaches the subscribers of other processes, each task's statuses in order",
      async () => {
        const other = await h.peer!();
        try {
          const one: number[] = [];
          const all: string[] = [];
          const here: string[] = [];
          await other.subscribe("t1", (s) => one.push(s.header.sequence));
          await other.subscribeAll((s) => all.push(`${s.header.task_id}:${s.header.sequence}`));
          await h.bus.subscribeAll((s) => here.push(`${s.header.task_id}:${s.header.sequence}`));
          // A submitter with dots in its name still routes to the task.
          await h.bus.publish([routed("t1", 1, "executing", "team.alice"), routed("t2", 1), routed("t1", 2)]);
          await vi.waitFor(() => expect(all).toHaveLength(3));
          expect(one).toEqual([1, 2]);
          expect(all.filter((k) => k.startsWith("t1:"))).toEqual(["t1:1", "t1:2"]);
          // Its own statuses reach this process's listeners once, not again through the broker.
          await new Promise((r) => setTimeout(r, 100));
          expect(here).toEqual(["t1:1", "t2:1", "t1:2"]);
        } finally {
          await other.close();
        }
      },
    );

    it("keeps delivering to the others when a listener throws", async () => {
      const seen: number[] = [];
      await h.bus.subscribe("t1", () => {
        throw new Error("a broken listener");
      });
      await h.bus.subscribe("t1", (s) => seen.push(s.header.sequence));
      await h.bus.publish([routed("t1", 1), routed("t1", 2)]);
      await h.settle();
      expect(seen).toEqual([1, 2]);
    });
  });
}
