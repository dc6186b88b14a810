import { describe, expect, it } from "vitest";
import { realClock } from "../../../src/clock/clock.js";
import { TimerQueue } from "../../../src/clock/timer-queue.js";
import { TaskexecError } from "../../../src/protocol/errors.js";
import { unsatisfiableIssues } from "../../../src/resources/capacity.js";
import { AllocationCancelledError, ResourceManager } from "../../../src/resources/resource-manager.js";

let seq = 0;
function req(taskId: string, requirements: Record<string, number>, priority = 5) {
  seq += 1;
  return { taskId, requirements, key: { priority, deadline: null, submitSeq: seq } };
}

function manager(capacity: Record<string, number> = { cpu: 4, memory_mb: 1000, gpu: 1 }) {
  return new ResourceManager({ node: "n1", capacity, timers: new TimerQueue(realClock) });
}

const FAR = () => Date.now() + 60_000;

describe("ResourceManager", () => {
  it("grants what fits at once and accounts for it", () => {
    const rm = manager();
    const a = rm.tryAllocate(req("a", { cpu: 1.5, memory_mb: 300 }));
    expect(a).toMatchObject({ node: "n1", amounts: { cpu: 1.5, memory_mb: 300 } });
    expect(rm.snapshot()).toMatchObject({
      allocated: { cpu: 1.5, memory_mb: 300, gpu: 0 },
      free: { cpu: 2.5, memory_mb: 700, gpu: 1 },
      running: 1,
    });
    rm.release(a!);
    rm.release(a!); // twice: harmless
    expect(rm.snapshot().free).toEqual({ cpu: 4, memory_mb: 1000, gpu: 1 });
  });

  it("grants empty and zero requirements without limit", () => {
    const rm = manager();
    for (let i = 0; i < 10; i++) expect(rm.tryAllocate(req(`t${i}`, { gpu: 0 }))).toBeDefined();
  });

  it("queues what does not fit, and a release wakes the right waiter", async () => {
    const rm = manager();
    const big = rm.tryAllocate(req("big", { cpu: 4 }))!;
    expect(rm.tryAllocate(req("x", { cpu: 1 }))).toBeUndefined();
    const granted: string[] = [];
    const low = rm.waitFor(req("low", { cpu: 2 }, 1), FAR()).then(() => granted.push("low"));
    const high = rm.waitFor(req("high", { cpu: 3 }, 8), FAR()).then(() => granted.push("high"));
    rm.release(big);
    await high;
    await new Promise((r) => setImmediate(r));
    // high (priority 8) got 3 CPUs; low needs 2 and only 1 is left, so it still waits.
    expect(granted).toEqual(["high"]);
    expect(rm.snapshot().waiting).toBe(1);
    rm.cancelWait("low");
    await expect(low).rejects.toBeInstanceOf(AllocationCancelledError);
  });

  it("does not let a stream of small requests starve a large one", async () => {
    const rm = manager({ cpu: 4 });
    const held = [1, 2, 3, 4].map((i) => rm.tryAllocate(req(`s${i}`, { cpu: 1 }))!);
    let bigGranted = false;
    const big = rm.waitFor(req("big", { cpu: 4 }), FAR()).then((a) => {
      bigGranted = true;
      return a;
    });
    // Small tasks keep arriving (behind the big one) as each small one finishes.
    for (const allocation of held) {
      rm.release(allocation);
      expect(rm.tryAllocate(req("late", { cpu: 1 }))).toBeUndefined();
    }
    await big;
    expect(bigGranted).toBe(true);
  });

  it("lets later requests use kinds the large waiter does not need (backfill)", () => {
    const rm = manager({ cpu: 4, gpu: 1 });
    rm.tryAllocate(req("hog", { cpu: 4 }));
    void rm.waitFor(req("big", { cpu: 2 }), FAR()).catch(() => {});
    expect(rm.tryAllocate(req("gpu-only", { gpu: 1 }))).toBeDefined();
    expect(rm.tryAllocate(req("cpu-small", { cpu: 0.5 }))).toBeUndefined();
    rm.cancelWait("big");
  });

  it("times out a wait with resource_unavailable", async () => {
    const rm = manager({ cpu: 1 });
    rm.tryAllocate(req("hog", { cpu: 1 }));
    const started = Date.now();
    const error = await rm.waitFor(req("w", { cpu: 1 }), Date.now() + 50).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskexecError);
    expect((error as TaskexecError).code).toBe("resource_unavailable");
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(rm.snapshot().waiting).toBe(0);
  });

  it("a timed-out large waiter stops reserving, so smaller ones behind it proceed", async () => {
    const rm = manager({ cpu: 2 });
    rm.tryAllocate(req("hog", { cpu: 1 }));
    const big = rm.waitFor(req("big", { cpu: 2 }), Date.now() + 30).catch((e: unknown) => e);
    const small = rm.waitFor(req("small", { cpu: 1 }), FAR());
    await big;
    await expect(small).resolves.toMatchObject({ amounts: { cpu: 1 } });
  });

  it("names requirements no node can ever satisfy", () => {
    expect(unsatisfiableIssues({ cpu: 2, gpu: 0 }, { cpu: 4, gpu: 0 })).toEqual([]);
    const issues = unsatisfiableIssues({ cpu: 8, fpga: 1, gpu: 0 }, { cpu: 4, gpu: 0 });
    expect(issues.map((i) => i.path)).toEqual([
      "body.task_specification.requirements.cpu",
      "body.task_specification.requirements.fpga",
    ]);
    expect(issues.every((i) => i.code === "resource_unsatisfiable")).toBe(true);
  });
});
