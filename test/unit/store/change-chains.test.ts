import { describe, expect, it } from "vitest";
import { ChangeChains } from "../../../src/store/change-chains.js";
import { newRecord } from "../../../src/store/change-plan.js";
import type { TaskRecord } from "../../../src/domain/records.js";
import { newTask } from "../../helpers/tasks.js";

const at = (task: TaskRecord, lastSequence: number): TaskRecord => ({ ...task, lastSequence });

describe("ChangeChains", () => {
  const task = newRecord(newTask(), 1);

  it("plans on the newest write in flight until the last one commits", () => {
    const chains = new ChangeChains();
    expect(chains.tip(task.id)).toBeUndefined();
    const a = chains.extend(at(task, 2));
    const b = chains.extend(at(task, 3));
    expect(b).toBe(a);
    expect(chains.tip(task.id)?.lastSequence).toBe(3);
    chains.answered(a, true);
    expect(chains.tip(task.id)?.lastSequence).toBe(3);
    chains.answered(b, true);
    expect(chains.tip(task.id)).toBeUndefined();
    expect(chains.size).toBe(0);
  });

  it("holds new changes back behind one that reads", () => {
    const chains = new ChangeChains();
    chains.extend(at(task, 2));
    chains.reading(task.id);
    expect(chains.mustRead(task.id)).toBe(true);
    chains.readDone(task.id);
    expect(chains.mustRead(task.id)).toBe(false);
    expect(chains.tip(task.id)?.lastSequence).toBe(2);
  });

  it("after a refusal, makes new changes read until every write planned after it is answered", () => {
    const chains = new ChangeChains();
    const chain = chains.extend(at(task, 2));
    chains.extend(at(task, 3));
    chains.extend(at(task, 4));
    chains.answered(chain, false);
    // The first refused change is planned again from the stored task: a new chain.
    expect(chains.tip(task.id)).toBeUndefined();
    expect(chains.mustRead(task.id)).toBe(true);
    const replanned = chains.extend(at(task, 5));
    expect(replanned).not.toBe(chain);
    chains.answered(chain, false);
    expect(chains.mustRead(task.id)).toBe(true);
    chains.answered(chain, false);
    expect(chains.mustRead(task.id)).toBe(false);
    expect(chains.tip(task.id)?.lastSequence).toBe(5);
    chains.answered(replanned, true);
    expect(chains.size).toBe(0);
  });
});
