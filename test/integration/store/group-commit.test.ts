import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { collect, type Harness, startExecutor } from "../../helpers/executor.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe("group commit, seen from the executor", () => {
  it("writes a submitted task's start in the transaction of its acceptance when a slot is free", async () => {
    h = await startExecutor();
    const reader = new Database(h.dbPath, { readonly: true });
    try {
      const statuses = reader.prepare("SELECT status FROM task_events WHERE task_id = ? ORDER BY sequence");
      const client = h.executor.client();
      for (let i = 0; i < 3; i++) {
        const task = await client.submit({ type: "sleep", parameters: { ms: 50 } });
        // Read at once, as the acceptance is announced: the start is already on disk with it.
        expect((statuses.all(task.id) as { status: string }[]).map((r) => r.status)).toEqual([
          "resource_allocation",
          "executing",
        ]);
        await collect(client.watch(task.id));
      }
    } finally {
      reader.close();
    }
  });

  it("announces a status only once another connection can read it from disk", async () => {
    h = await startExecutor();
    const reader = new Database(h.dbPath, { readonly: true });
    try {
      const stored = reader.prepare("SELECT 1 FROM task_events WHERE task_id = ? AND sequence = ?");
      const client = h.executor.client();
      const task = await client.submit({ type: "sleep", parameters: { ms: 120 } });
      const seen: boolean[] = [];
      for await (const status of client.watch(task.id)) {
        seen.push(stored.get(status.header.task_id, status.header.sequence) !== undefined);
      }
      expect(seen.length).toBeGreaterThan(4);
      expect(seen.every(Boolean)).toBe(true);
      expect((await collect(client.watch(task.id))).length).toBe(seen.length);
    } finally {
      reader.close();
    }
  });
});
