import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openSqliteTaskStore } from "../../../src/store/sqlite/sqlite-task-store.js";
import { draft, newTask } from "../../helpers/tasks.js";
import { tempDir } from "../../helpers/temp.js";

describe("SQLite store", () => {
  it("counts the unfinished tasks it finds on open against quotas", async () => {
    const tmp = tempDir();
    const path = join(tmp.dir, "q.db");
    try {
      const first = await openSqliteTaskStore({ path });
      const [done] = [newTask({ requirements: { cpu: 1 } })];
      await first.submitTasks([done, newTask({ requirements: { cpu: 1.5, licence: 1 } }), newTask()]);
      await first.recordChange({
        taskId: done.id,
        from: ["resource_allocation"],
        to: "cancelled",
        status: draft(),
      });
      await first.close();
      const again = await openSqliteTaskStore({ path });
      expect(await again.activeUsage("alice")).toEqual({ tasks: 2, resources: { cpu: 1.5, licence: 1 } });
      const [refused] = await again.submitTasks([newTask({ requirements: { cpu: 1 } })], undefined, {
        quota: { maxTasks: 5, maxResources: { cpu: 2 } },
      });
      expect(refused!.refused?.code).toBe("quota_exceeded");
      await again.close();
    } finally {
      tmp.remove();
    }
  });

  it("removes the status rows of the tasks it deletes, batch by batch, and no others (nothing cascades)", async () => {
    const tmp = tempDir();
    const path = join(tmp.dir, "r.db");
    const store = await openSqliteTaskStore({ path });
    const reader = new Database(path, { readonly: true });
    const rows = (sql: string) => (reader.prepare(sql).get() as { n: number }).n;
    try {
      const tasks = Array.from({ length: 5 }, () => newTask());
      await store.submitTasks(tasks);
      // Three finished long ago (two statuses each), two still queued (one status each).
      for (const [i, task] of tasks.slice(0, 3).entries()) {
        await store.recordChange({
          taskId: task.id,
          from: ["resource_allocation"],
          to: "cancelled",
          patch: { finishedAt: 1000 + i },
          status: draft(),
        });
      }
      expect(rows("SELECT count(*) AS n FROM task_events")).toBe(8);
      expect(await store.deleteFinishedBefore(Date.now(), 2)).toBe(2);
      expect(rows("SELECT count(*) AS n FROM task_events")).toBe(4);
      expect(await store.deleteFinishedBefore(Date.now(), 2)).toBe(1);
      expect(rows("SELECT count(*) AS n FROM tasks")).toBe(2);
      expect(rows("SELECT count(*) AS n FROM task_events")).toBe(2);
      expect(rows("SELECT count(*) AS n FROM task_events WHERE task_id NOT IN (SELECT id FROM tasks)")).toBe(
        0,
      );
    } finally {
      reader.close();
      await store.close();
      tmp.remove();
    }
  });

  it("counts the tasks per state it finds when it opens", async () => {
    const tmp = tempDir();
    const path = join(tmp.dir, "c.db");
    try {
      const first = await openSqliteTaskStore({ path });
      const a = newTask();
      await first.submitTasks([a, newTask({ submitter: "bob" })]);
      await first.recordChange({
        taskId: a.id,
        from: ["resource_allocation"],
        to: "cancelled",
        status: draft(),
      });
      await first.close();
      const again = await openSqliteTaskStore({ path });
      expect(await again.countByState()).toEqual({ resource_allocation: 1, cancelled: 1 });
      expect(await again.countByState("bob")).toEqual({ resource_allocation: 1 });
      await again.close();
    } finally {
      tmp.remove();
    }
  });
});
