import { describe, expect, it } from "vitest";
import { type FeedBatch, TaskFeed } from "../../../src/api/task-feed.js";
import type { TaskRecord } from "../../../src/domain/records.js";
import { newTask } from "../../helpers/tasks.js";

function record(submitter: string, id: string, progress: number | null = null): TaskRecord {
  const t = newTask({ submitter, id });
  return {
    ...t,
    attempts: 0,
    progress,
    result: null,
    error: null,
    allocation: null,
    runAt: t.createdAt,
    leaseOwner: null,
    leaseExpiresAt: null,
    lastSequence: 1,
    submitSeq: 1,
    updatedAt: t.createdAt,
    startedAt: null,
    finishedAt: null,
  };
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("TaskFeed", () => {
  it("coalesces changes per task into one batch per interval, newest row each", async () => {
    const feed = new TaskFeed(20);
    const batches: FeedBatch[] = [];
    feed.subscribe(undefined, (b) => batches.push(b));
    for (let i = 1; i <= 10; i++) feed.onStatus(record("alice", "a", i / 10));
    feed.onStatus(record("bob", "b"));
    await tick(60);
    expect(batches).toHaveLength(1);
    const batch = batches[0]!;
    expect(batch.kind).toBe("tasks");
    if (batch.kind !== "tasks") return;
    expect(batch.tasks.map((t) => [t.id, t.progress])).toEqual([
      ["a", 1],
      ["b", null],
    ]);
    expect(batch.tasks[0]).not.toHaveProperty("parameters");
  });

  it("gives a submitter only its own tasks, and stops after unsubscribe", async () => {
    const feed = new TaskFeed(10);
    const alice: FeedBatch[] = [];
    const all: FeedBatch[] = [];
    const stop = feed.subscribe("alice", (b) => alice.push(b));
    feed.subscribe(undefined, (b) => all.push(b));
    feed.onStatus(record("bob", "b1"));
    feed.onStatus(record("alice", "a1"));
    await tick(40);
    const ids = (batches: FeedBatch[]) =>
      batches.flatMap((b) => (b.kind === "tasks" ? b.tasks.map((t) => t.id) : []));
    expect(ids(alice)).toEqual(["a1"]);
    expect(ids(all)).toEqual(["b1", "a1"]);
    stop();
    feed.onStatus(record("alice", "a2"));
    await tick(40);
    expect(ids(alice)).toEqual(["a1"]);
    expect(ids(all)).toEqual(["b1", "a1", "a2"]);
  });

  it("tells a subscriber to reload instead of holding more than a thousand rows", async () => {
    const feed = new TaskFeed(20);
    const batches: FeedBatch[] = [];
    feed.subscribe(undefined, (b) => batches.push(b));
    for (let i = 0; i < 1_500; i++) feed.onStatus(record("alice", `t${i}`));
    await tick(60);
    expect(batches).toMatchObject([{ kind: "resync" }]);
    expect(batches).toHaveLength(1);
    feed.onStatus(record("alice", "after"));
    await tick(60);
    expect(batches[1]).toMatchObject({ kind: "tasks", tasks: [{ id: "after" }] });
  });
});
