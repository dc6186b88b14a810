import { describe, expect, it } from "vitest";
import { type FeedBatch, MAX_SHARE, STREAMS_PER_TURN, TaskFeed } from "../../../src/api/task-feed.js";
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

  it("writes a batch to many streams a slice per turn of the event loop, not all in one", async () => {
    const feed = new TaskFeed(5);
    let turn = 0;
    let counting = true;
    const count = () => {
      turn++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const turns: number[] = [];
    const subscribers = 3 * STREAMS_PER_TURN + 1;
    for (let i = 0; i < subscribers; i++) feed.subscribe(undefined, () => turns.push(turn));
    feed.onStatus(record("alice", "a"));
    await tick(100);
    counting = false;
    expect(turns).toHaveLength(subscribers);
    const perTurn = new Map<number, number>();
    for (const t of turns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(STREAMS_PER_TURN);
    expect(perTurn.size).toBeGreaterThanOrEqual(4);
  });

  it("rests after a costly flush so that writing batches takes at most its share of the server", async () => {
    const feed = new TaskFeed(5);
    const delivered: number[] = [];
    const costMs = 40;
    feed.subscribe(undefined, () => {
      delivered.push(performance.now());
      const until = performance.now() + costMs;
      while (performance.now() < until); // a write that copies a lot into a socket
    });
    feed.onStatus(record("alice", "a"));
    await tick(costMs + 30);
    expect(delivered).toHaveLength(1);
    feed.onStatus(record("alice", "b"));
    await tick(costMs * (1 / MAX_SHARE) + 100);
    expect(delivered).toHaveLength(2);
    // At least the flush's own time plus its rest, three times as long, between the two.
    expect(delivered[1]! - delivered[0]!).toBeGreaterThanOrEqual(costMs / MAX_SHARE - 5);
  });

  it("still delivers what changed while a flush was being written", async () => {
    const feed = new TaskFeed(5);
    const ids: string[] = [];
    for (let i = 0; i < 2 * STREAMS_PER_TURN; i++)
      feed.subscribe(undefined, (b) => {
        if (i === 0 && b.kind === "tasks") ids.push(...b.tasks.map((t) => t.id));
        if (i === 1 && ids.length === 1) feed.onStatus(record("alice", "during")); // arrives mid-flush
      });
    feed.onStatus(record("alice", "first"));
    await tick(80);
    expect(ids).toEqual(["first", "during"]);
  });
});
