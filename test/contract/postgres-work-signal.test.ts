import { describe, expect, it, vi } from "vitest";
import { openPostgresTaskStore } from "../../src/store/postgres/open-postgres-store.js";
import { PostgresWorkSignal } from "../../src/transport/postgres/postgres-work-signal.js";
import { createTestDatabase, postgresForTests, terminateSessions } from "../helpers/postgres.js";
import { draft, newTask } from "../helpers/tasks.js";
import { describeWorkSignalContract } from "./work-signal.contract.js";

const available = await postgresForTests();

describe.runIf(available)("PostgreSQL", () => {
  describeWorkSignalContract("postgres", async () => {
    const db = await createTestDatabase();
    const errors: unknown[] = [];
    const signal = await PostgresWorkSignal.open({
      url: db.url,
      node: "node-a",
      onError: (e) => errors.push(e),
    });
    return {
      signal,
      errors,
      peer: () => PostgresWorkSignal.open({ url: db.url, node: "node-b" }),
      cleanup: async () => {
        await signal.close();
        await db.drop();
      },
    };
  });
});

describe.runIf(available)("PostgresWorkSignal on a shared database", () => {
  it("hears of the work another process's store writes (an insert, a task handed back), not of other writes", async () => {
    const db = await createTestDatabase();
    const store = await openPostgresTaskStore({ url: db.url, node: "node-b" });
    const signal = await PostgresWorkSignal.open({ url: db.url, node: "node-a" });
    try {
      const heard: string[] = [];
      await signal.listen({ ready: () => heard.push("ready"), mayBeReady: () => heard.push("may be ready") });
      const task = newTask();
      await store.submitTasks([task]);
      await vi.waitFor(() => expect(heard).toEqual(["may be ready"]));
      const started = await store.recordChange({
        taskId: task.id,
        from: ["resource_allocation"],
        to: "executing",
        status: draft({ event: "execution_started" }),
      });
      await store.recordChange({
        taskId: task.id,
        known: started.task,
        from: ["executing"],
        to: "executing",
        status: draft({ event: "progress_update" }),
      });
      await store.recordChange({
        taskId: task.id,
        from: ["executing"],
        to: "waiting",
        status: draft({ event: "retry_scheduled" }),
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(heard).toEqual(["may be ready"]);
      await store.recordChange({
        taskId: task.id,
        from: ["waiting"],
        to: "resource_allocation",
        status: draft({ event: "task_accepted" }),
      });
      await vi.waitFor(() => expect(heard).toEqual(["may be ready", "may be ready"]));
    } finally {
      await signal.close();
      await store.close();
      await db.drop();
    }
  });

  it("reconnects by itself when its session is killed, and then says work may be ready", async () => {
    const db = await createTestDatabase();
    const errors: unknown[] = [];
    const signal = await PostgresWorkSignal.open({
      url: db.url,
      node: "node-a",
      onError: (e) => errors.push(e),
    });
    const other = await PostgresWorkSignal.open({ url: db.url, node: "node-b" });
    try {
      const heard: string[] = [];
      await signal.listen({ ready: () => heard.push("ready"), mayBeReady: () => heard.push("may be ready") });
      await terminateSessions(db.url, "taskexec-work");
      // The other signal's session was killed too: it reconnects the same way.
      await vi.waitFor(() => expect(heard).toEqual(["may be ready"]), { timeout: 5_000 });
      expect(errors.length).toBeGreaterThan(0);
      await vi.waitFor(async () => {
        await other.mayBeReady();
        expect(heard.length).toBeGreaterThan(1);
      });
    } finally {
      await other.close();
      await signal.close();
      await db.drop();
    }
  });
});
