import type { ResourceAmounts } from "../domain/records.js";
import type { ActiveUsage, SubmissionQuota } from "./task-store.js";

interface Usage {
  tasks: number;
  /** A map without a prototype: kinds come from users (`constructor` is a kind like any other). */
  resources: ResourceAmounts;
}

/**
 * Each submitter's unfinished tasks and the resources they ask for, kept in memory by a store
 * that is the only writer of its database: summed once when the store opens, then moved by
 * every committed write. Inserts still in flight are *reserved*: a quota is checked against
 * committed plus reserved usage and the reservation taken in the same synchronous step, so
 * submissions racing each other cannot both see room that only one of them may have.
 */
export class ActiveUsageLedger {
  readonly #committed = new Map<string, Usage>();
  readonly #reserved = new Map<string, Usage>();

  /** Adds a submitter's unfinished tasks as read when the store opens. */
  load(submitter: string, tasks: number, resources: Readonly<ResourceAmounts>): void {
    add(entry(this.#committed, submitter), tasks, resources, 1);
  }

  /**
   * Reserves one task's requirements when the quota leaves room for it; else returns why not
   * (nothing is reserved).
   */
  reserve(
    submitter: string,
    requirements: Readonly<ResourceAmounts>,
    quota: SubmissionQuota,
  ): string | undefined {
    const used = this.usage(submitter);
    if (quota.maxTasks !== undefined && used.tasks + 1 > quota.maxTasks) {
      return `at most ${quota.maxTasks} unfinished tasks per principal (you have ${used.tasks})`;
    }
    for (const [kind, amount] of Object.entries(requirements)) {
      const max =
        quota.maxResources !== undefined && Object.hasOwn(quota.maxResources, kind)
          ? quota.maxResources[kind]
          : undefined;
      const inUse = Object.hasOwn(used.resources, kind) ? (used.resources[kind] ?? 0) : 0;
      if (max !== undefined && amount > 0 && inUse + amount > max + 1e-9) {
        return `at most ${max} ${kind} across unfinished tasks per principal (in use ${round(inUse)}, asked ${amount})`;
      }
    }
    add(entry(this.#reserved, submitter), 1, requirements, 1);
    return undefined;
  }

  /** An insert committed: its reservation ends, and the task counts as unfinished if it was created. */
  inserted(
    submitter: string,
    requirements: Readonly<ResourceAmounts>,
    reserved: boolean,
    created: boolean,
  ): void {
    if (reserved) this.#take(this.#reserved, submitter, requirements);
    if (created) add(entry(this.#committed, submitter), 1, requirements, 1);
  }

  /** An insert failed outright: its reservation ends. */
  abandoned(submitter: string, requirements: Readonly<ResourceAmounts>): void {
    this.#take(this.#reserved, submitter, requirements);
  }

  /** A task reached a terminal state: it no longer counts. */
  finished(submitter: string, requirements: Readonly<ResourceAmounts>): void {
    this.#take(this.#committed, submitter, requirements);
  }

  /** Committed and reserved usage of one submitter. */
  usage(submitter: string): ActiveUsage {
    const out: Usage = { tasks: 0, resources: Object.create(null) as ResourceAmounts };
    for (const source of [this.#committed.get(submitter), this.#reserved.get(submitter)]) {
      if (source !== undefined) add(out, source.tasks, source.resources, 1);
    }
    return { tasks: out.tasks, resources: { ...out.resources } };
  }

  #take(map: Map<string, Usage>, submitter: string, requirements: Readonly<ResourceAmounts>): void {
    const usage = map.get(submitter);
    if (usage === undefined) return;
    add(usage, 1, requirements, -1);
    if (usage.tasks <= 0) map.delete(submitter);
  }
}

function entry(map: Map<string, Usage>, submitter: string): Usage {
  let usage = map.get(submitter);
  if (usage === undefined) {
    usage = { tasks: 0, resources: Object.create(null) as ResourceAmounts };
    map.set(submitter, usage);
  }
  return usage;
}

function add(usage: Usage, tasks: number, resources: Readonly<ResourceAmounts>, sign: 1 | -1): void {
  usage.tasks += sign * tasks;
  for (const [kind, amount] of Object.entries(resources)) {
    if (!(amount > 0)) continue;
    const total = (usage.resources[kind] ?? 0) + sign * amount;
    // Sums of fractions drift: a total that is zero but for rounding is zero.
    if (Math.abs(total) < 1e-9) delete usage.resources[kind];
    else usage.resources[kind] = total;
  }
}

const round = (n: number): number => Math.round(n * 1e6) / 1e6;
