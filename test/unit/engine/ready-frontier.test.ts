import { describe, expect, it } from "vitest";
import { ReadyFrontier } from "../../../src/engine/ready-frontier.js";
import type { TaskRecord } from "../../../src/store/records.js";

let seq = 0;
const task = (id: string, priority: number, deadline: number | null = null) =>
  ({ id, priority, deadline, submitSeq: ++seq }) as TaskRecord;

describe("ReadyFrontier", () => {
  it("takes the best task a chooser accepts, within a number of looks, and leaves the others in place", () => {
    const f = new ReadyFrontier(10);
    f.fill([], true);
    for (const t of [task("gpu-a", 9), task("gpu-b", 8), task("cpu", 5), task("cpu-later", 5)]) f.offer(t);
    const canRun = (t: TaskRecord) => (t.id.startsWith("cpu") ? t.id : undefined);
    expect(f.takeFirst(canRun, 2)).toBeUndefined(); // only the two GPU tasks were looked at
    expect(f.takeFirst(canRun, 10)).toEqual({
      task: expect.objectContaining({ id: "cpu" }),
      decision: "cpu",
    });
    expect([f.pop(), f.pop(), f.pop()].map((t) => t?.id)).toEqual(["gpu-a", "gpu-b", "cpu-later"]);
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
