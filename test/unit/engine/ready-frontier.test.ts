import { describe, expect, it } from "vitest";
import { ReadyFrontier, STOP } from "../../../src/engine/ready-frontier.js";
import type { TaskRecord } from "../../../src/domain/records.js";

let seq = 0;
const task = (id: string, priority: number, deadline: number | null = null) =>
  ({ id, priority, deadline, submitSeq: ++seq }) as TaskRecord;

describe("ReadyFrontier", () => {
  it("takes, in one walk from the best down, each task the visitor decides on, and leaves the others in place", () => {
    const f = new ReadyFrontier(10);
    f.fill([], true);
    for (const t of [
      task("gpu-a", 9),
      task("cpu-1", 8),
      task("gpu-b", 7),
      task("cpu-2", 5),
      task("cpu-3", 4),
    ])
      f.offer(t);
    const looked: string[] = [];
    const visit = (t: TaskRecord) => {
      looked.push(t.id);
      return t.id.startsWith("cpu") ? t.id : undefined;
    };
    expect(f.takeEach(visit, 2).map((t) => t.decision)).toEqual(["cpu-1"]); // two looks only
    expect(looked).toEqual(["gpu-a", "cpu-1"]);
    let room = 1;
    const once = (t: TaskRecord) => (room === 0 ? STOP : t.id.startsWith("cpu") ? (room--, t.id) : undefined);
    expect(f.takeEach(once, 10).map((t) => t.decision)).toEqual(["cpu-2"]);
    expect([f.pop(), f.pop(), f.pop(), f.pop()].map((t) => t?.id)).toEqual([
      "gpu-a",
      "gpu-b",
      "cpu-3",
      undefined,
    ]);
  });

  it("pops in scheduling order", () => {
    const f = new ReadyFrontier(10);
    f.fill([], true);
    for (const t of [
      task("low", 1),
      task("high-late", 9, 2000),
      task("high-soon", 9, 1000),
      task("mid", 5),
      task("high", 9),
    ])
      f.offer(t);
    expect([f.pop(), f.pop(), f.pop(), f.pop(), f.pop()].map((t) => t?.id)).toEqual([
      "high-soon",
      "high-late",
      "high",
      "mid",
      "low",
    ]);
    expect(f.pop()).toBeUndefined();
  });

  it("keeps only the best `capacity` tasks and then knows it is incomplete", () => {
    const f = new ReadyFrontier(3);
    f.fill([], true);
    for (let i = 0; i < 5; i++) f.offer(task(`p${i}`, i));
    expect(f.size).toBe(3);
    expect(f.complete).toBe(false);
    // Worse than everything held: stays on disk.
    expect(f.offer(task("p0-again", 0))).toBe(false);
    // Better than the worst held: comes in, the worst goes.
    expect(f.offer(task("p9", 9))).toBe(true);
    expect([f.pop(), f.pop(), f.pop()].map((t) => t?.id)).toEqual(["p9", "p4", "p3"]);
  });

  it("fills from disk without duplicates and removes by id", () => {
    const f = new ReadyFrontier(5);
    const a = task("a", 5);
    const b = task("b", 5);
    f.fill([a, b], false);
    f.fill([a, b, task("c", 1)], true);
    expect(f.size).toBe(3);
    expect(f.complete).toBe(true);
    expect(f.remove("b")).toBe(true);
    expect(f.remove("b")).toBe(false);
    expect([f.pop()?.id, f.pop()?.id, f.pop()]).toEqual(["a", "c", undefined]);
  });
});
