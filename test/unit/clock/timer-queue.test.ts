import { describe, expect, it } from "vitest";
import { realClock } from "../../../src/clock/clock.js";
import { TimerQueue } from "../../../src/clock/timer-queue.js";

describe("TimerQueue", () => {
  it("fires timers in due order and skips cancelled ones", async () => {
    const q = new TimerQueue(realClock);
    const fired: number[] = [];
    const now = Date.now();
    for (const offset of [40, 10, 30, 20]) q.at(now + offset, () => fired.push(offset));
    q.at(now + 25, () => fired.push(25)).cancel();
    expect(q.size).toBe(4);
    await new Promise((r) => setTimeout(r, 80));
    expect(fired).toEqual([10, 20, 30, 40]);
    expect(q.size).toBe(0);
  });

  it("serves a thousand timers with far fewer real ones", async () => {
    let realTimers = 0;
    const clock = {
      ...realClock,
      setTimer: (ms: number, fn: () => void) => {
        realTimers++;
        return realClock.setTimer(ms, fn);
      },
    };
    const q = new TimerQueue(clock);
    const now = Date.now();
    const fired: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const at = now + 5 + ((i * 7919) % 40);
      q.at(at, () => fired.push(at));
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).toHaveLength(1000);
    expect(fired).toEqual([...fired].sort((a, b) => a - b));
    expect(realTimers).toBeLessThan(200);
  });

  it("runs a past-due timer promptly", async () => {
    const q = new TimerQueue(realClock);
    const done = new Promise<void>((resolve) => q.at(0, resolve));
    await expect(done).resolves.toBeUndefined();
  });
});
