import { describe, expect, it } from "vitest";
import { coalescedAllowance } from "../../../src/security/coalesced-allowance.js";
import type { SharedAllowance } from "../../../src/security/submission-guard.js";

/** A bucket of `tokens` behind a store call that answers after a turn, counting its calls. */
function bucket(tokens: number) {
  const calls: { principal: string; wanted: number; now: number }[] = [];
  const take: SharedAllowance = async (principal, wanted, _perMinute, now) => {
    calls.push({ principal, wanted, now });
    await new Promise((r) => setTimeout(r, 5));
    const granted = Math.min(wanted, tokens);
    tokens -= granted;
    return { granted, waitMs: granted < wanted ? 1_000 : 0 };
  };
  return { take, calls };
}

describe("coalescedAllowance (the shared rate count, a principal's concurrent takes together)", () => {
  it("sends the takes that come while one is in flight as one, and hands the tokens out in order", async () => {
    const { take, calls } = bucket(12);
    const allowance = coalescedAllowance(take);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => allowance("alice", 2, 6000, 1_000 + i)),
    );
    // The first alone, the nine that came meanwhile together.
    expect(calls).toEqual([
      { principal: "alice", wanted: 2, now: 1_000 },
      { principal: "alice", wanted: 18, now: 1_009 },
    ]);
    expect(answers.map((a) => a.granted)).toEqual([2, 2, 2, 2, 2, 2, 0, 0, 0, 0]);
    expect(answers.map((a) => a.waitMs)).toEqual([0, 0, 0, 0, 0, 0, 1_000, 1_000, 1_000, 1_000]);
  });

  it("keeps principals apart, and goes on after a batch whose take failed", async () => {
    let fail = true;
    const calls: string[] = [];
    const allowance = coalescedAllowance(async (principal, wanted) => {
      calls.push(`${principal}:${wanted}`);
      await new Promise((r) => setTimeout(r, 5));
      if (principal === "bob" && fail) {
        fail = false;
        throw new Error("the store is away");
      }
      return { granted: wanted, waitMs: 0 };
    });
    const [alice, bob] = await Promise.allSettled([allowance("alice", 1, 60, 0), allowance("bob", 1, 60, 0)]);
    expect(alice).toMatchObject({ status: "fulfilled", value: { granted: 1 } });
    expect(bob).toMatchObject({ status: "rejected" });
    expect(await allowance("bob", 3, 60, 1)).toEqual({ granted: 3, waitMs: 0 });
    expect(calls).toEqual(["alice:1", "bob:1", "bob:3"]);
  });
});
