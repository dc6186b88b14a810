// "Subscribe, then read history, each status exactly once": watchStatuses over the in-process bus
// and a real SQLite store, with statuses published late, twice, or not at all.
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { watchStatuses } from "../../../src/engine/watch-statuses.js";
import type { TaskStatus } from "../../../src/protocol/task-status.js";
import { openSqliteTaskStore, type SqliteTaskStore } from "../../../src/store/sqlite/sqlite-task-store.js";
import { MemoryStatusBus } from "../../../src/transport/memory/memory-status-bus.js";
import { draft, newTask } from "../../helpers/tasks.js";
import { tempDir } from "../../helpers/temp.js";

describe("watchStatuses", () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteTaskStore;
  beforeEach(async () => {
    tmp = tempDir();
    store = await openSqliteTaskStore({ path: join(tmp.dir, "w.db") });
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  /** A change, as the bus takes it (with its task's submitter). */
  const change = async (
    taskId: string,
    from: "resource_allocation" | "executing",
    to: "executing" | "cancelled",
  ) => {
    const outcome = await store.recordChange({
      taskId,
      from: [from],
      to,
      status: draft({ event: to === "executing" ? "progress_update" : "task_cancelled" }),
    });
    return { submitter: outcome.task.submitter, status: outcome.status };
  };

  it("gives history then live statuses, each once and in order, whatever the bus repeats or loses", async () => {
    const bus = new MemoryStatusBus();
    const [inserted] = await store.submitTasks([newTask()]);
    const id = inserted!.task.id;
    const second = await change(id, "resource_allocation", "executing");
    const seen: number[] = [];
    const watching = (async () => {
      for await (const s of watchStatuses(store, bus, id, 0)) seen.push(s.header.sequence);
    })();
    // It subscribes before it reads history: once the history is seen, the bus is heard.
    await vi.waitFor(() => expect(seen).toEqual([1, 2]));
    // Published again although it is history: not given twice.
    await bus.publish([second]);
    const third = await change(id, "executing", "executing");
    const fourth = await change(id, "executing", "executing");
    // The bus lost the third and repeats the fourth: the gap is read from the store.
    await bus.publish([fourth, fourth]);
    const last = await change(id, "executing", "cancelled");
    await bus.publish([last]);
    await watching;
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(third.status.header.sequence).toBe(3);
  });

  it("fills a gap in the middle of a live batch from the store (a lossy bus delivers 2 and 4 together, issue 25.16)", async () => {
    const bus = new MemoryStatusBus();
    const [inserted] = await store.submitTasks([newTask()]);
    const id = inserted!.task.id;
    const seen: number[] = [];
    const watching = (async () => {
      for await (const s of watchStatuses(store, bus, id, 0)) seen.push(s.header.sequence);
    })();
    await vi.waitFor(() => expect(seen).toEqual([1]));
    const second = await change(id, "resource_allocation", "executing");
    await change(id, "executing", "executing"); // 3: lost on the bus
    const fourth = await change(id, "executing", "executing");
    const last = await change(id, "executing", "cancelled");
    // One delivery of several statuses: its first follows what was seen, a later one does not.
    await bus.publish([second, fourth, last]);
    await watching;
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("with rereadMs, ends even when the bus never says a word (news lost on a shared store)", async () => {
    const bus = new MemoryStatusBus();
    const [inserted] = await store.submitTasks([newTask()]);
    const id = inserted!.task.id;
    const seen: TaskStatus[] = [];
    const watching = (async () => {
      for await (const s of watchStatuses(store, bus, id, 0, undefined, 50)) seen.push(s);
    })();
    await change(id, "resource_allocation", "executing");
    await change(id, "executing", "cancelled");
    await watching;
    expect(seen.map((s) => s.body.status)).toEqual(["resource_allocation", "executing", "cancelled"]);
  });
});
