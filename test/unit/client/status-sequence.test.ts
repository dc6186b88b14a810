import { describe, expect, it, vi } from "vitest";
import { StatusSequence } from "../../../src/client/status-sequence.js";
import type { TaskStatus } from "../../../src/protocol/task-status.js";

const status = (sequence: number, state: TaskStatus["body"]["status"] = "executing"): TaskStatus => ({
  type: "task_status",
  header: {
    message_id: `m-${sequence}`,
    reference_id: "ref",
    timestamp: new Date().toISOString(),
    task_id: "t1",
    sequence,
  },
  body: { status: state },
});

const read = async (sequence: StatusSequence) => {
  const out: number[] = [];
  for await (const s of sequence) out.push(s.header.sequence);
  return out;
};

describe("StatusSequence (one task's statuses from the broker, in order and once)", () => {
  it("puts statuses heard out of turn back in order, drops the ones heard twice, and ends at the terminal one", async () => {
    const sequence = new StatusSequence(0);
    const reading = read(sequence);
    for (const n of [2, 1, 1, 3, 2]) sequence.add(status(n));
    sequence.add(status(4, "completed"));
    sequence.add(status(5)); // after the end: never read
    expect(await reading).toEqual([1, 2, 3, 4]);
  });

  it("starts after the sequence the reader has", async () => {
    const sequence = new StatusSequence(2);
    for (const n of [1, 2, 3]) sequence.add(status(n));
    sequence.add(status(4, "failed"));
    expect(await read(sequence)).toEqual([3, 4]);
  });

  it("skips a gap no status fills within a second (one lost with a process that died)", async () => {
    vi.useFakeTimers();
    try {
      const sequence = new StatusSequence(0);
      const heard: number[] = [];
      const reading = (async () => {
        for await (const s of sequence) heard.push(s.header.sequence);
      })();
      sequence.add(status(1));
      sequence.add(status(3));
      await vi.advanceTimersByTimeAsync(500);
      expect(heard).toEqual([1]);
      await vi.advanceTimersByTimeAsync(600);
      expect(heard).toEqual([1, 3]);
      sequence.add(status(2)); // late: already passed
      sequence.add(status(4, "completed"));
      await reading;
      expect(heard).toEqual([1, 3, 4]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("ends the reader's loop when stopped (an aborted watch)", async () => {
    const sequence = new StatusSequence(0);
    const reading = read(sequence);
    sequence.add(status(1));
    await new Promise((r) => setImmediate(r));
    sequence.end();
    expect(await reading).toEqual([1]);
  });
});
