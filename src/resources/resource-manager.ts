import { randomUUID } from "node:crypto";
import type { TimerHandle, TimerQueue } from "../clock/timer-queue.js";
import { compareSchedulingKeys, type SchedulingKey } from "../domain/scheduling-order.js";
import { TaskexecError } from "../protocol/errors.js";
import type { AllocationRecord, NodeResources, ResourceAmounts } from "../domain/records.js";
import { EPSILON } from "./capacity.js";

export interface ResourceRequest {
  taskId: string;
  requirements: ResourceAmounts;
  key: SchedulingKey;
}

/** A usage snapshot, for metrics, `/v1/resources` and the cluster view. */
/** This node's resources now (the domain's NodeResources). */
export type ResourceSnapshot = NodeResources;

/** Why a wait ended without a grant. */
export class AllocationCancelledError extends Error {
  override readonly name = "AllocationCancelledError";
}

interface Waiter {
  request: ResourceRequest;
  resolve: (allocation: AllocationRecord) => void;
  reject: (error: Error) => void;
  timer: TimerHandle | undefined;
}

/**
 * This node's resources: grants requirements at once when they fit, or queues the request.
 *
 * Fairness (no starvation): waiters are served in scheduling order, and each waiter that does
 * not fit yet *reserves* its whole requirement. A request behind it is granted only from what is
 * left after those reservations, so a stream of small requests can use capacity the large one
 * does not need, but can never take what it is waiting for. A request ranked ahead of every
 * waiter (higher priority) goes first: that is what priority means.
 */
export class ResourceManager {
  readonly node: string;
  readonly #capacity: ResourceAmounts;
  readonly #free: ResourceAmounts;
  readonly #allocations = new Map<string, AllocationRecord>();
  readonly #waiters: Waiter[] = [];
  readonly #timers: TimerQueue;

  constructor(options: { node: string; capacity: ResourceAmounts; timers: TimerQueue }) {
    this.node = options.node;
    // Maps without a prototype: a kind is only ever what the capacity names.
    this.#capacity = Object.assign(Object.create(null) as ResourceAmounts, options.capacity);
    this.#free = Object.assign(Object.create(null) as ResourceAmounts, options.capacity);
    this.#timers = options.timers;
  }

  get capacity(): Readonly<ResourceAmounts> {
    return this.#capacity;
  }

  /** Grants the request now if the policy allows, else returns undefined (nothing is queued). */
  tryAllocate(request: ResourceRequest): AllocationRecord | undefined {
    const reserved: ResourceAmounts = {};
    for (const waiter of this.#waiters) {
      if (compareSchedulingKeys(waiter.request.key, request.key) >= 0) break;
      addInto(reserved, waiter.request.requirements);
    }
    return this.#fits(request.requirements, reserved) ? this.#grant(request) : undefined;
  }

  /**
   * Queues the request until it can be granted. Rejects with `resource_unavailable` at
   * `timeoutAt`, or with {@link AllocationCancelledError} on {@link cancelWait}.
   */
  waitFor(request: ResourceRequest, timeoutAt: number): Promise<AllocationRecord> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { request, resolve, reject, timer: undefined };
      const at = this.#waiters.findIndex((w) => compareSchedulingKeys(request.key, w.request.key) < 0);
      this.#waiters.splice(at === -1 ? this.#waiters.length : at, 0, waiter);
      waiter.timer = this.#timers.at(timeoutAt, () => {
        if (!this.#remove(waiter)) return;
        reject(
          new TaskexecError("resource_unavailable", "resources were not free before the allocation timeout"),
        );
        this.#drain();
      });
      this.#drain();
    });
  }

  /** Ends a task's wait; its promise rejects with {@link AllocationCancelledError}. */
  cancelWait(taskId: string, reason = "allocation wait cancelled"): boolean {
    const waiter = this.#waiters.find((w) => w.request.taskId === taskId);
    if (waiter === undefined) return false;
    this.#remove(waiter);
    waiter.reject(new AllocationCancelledError(reason));
    this.#drain();
    return true;
  }

  /** Gives an allocation back and serves the waiters it unblocks. Releasing twice is harmless. */
  release(allocation: AllocationRecord): void {
    if (!this.#allocations.delete(allocation.id)) return;
    addInto(this.#free, allocation.amounts);
    this.#drain();
  }

  snapshot(): ResourceSnapshot {
    const allocated: ResourceAmounts = {};
    for (const [kind, total] of Object.entries(this.#capacity)) {
      allocated[kind] = roundAmount(total - (this.#free[kind] ?? 0));
    }
    const free: ResourceAmounts = {};
    for (const [kind, amount] of Object.entries(this.#free)) free[kind] = roundAmount(amount);
    return {
      node: this.node,
      capacity: { ...this.#capacity },
      allocated,
      free,
      running: this.#allocations.size,
      waiting: this.#waiters.length,
    };
  }

  #drain(): void {
    const reserved: ResourceAmounts = {};
    for (let i = 0; i < this.#waiters.length;) {
      const waiter = this.#waiters[i]!;
      if (this.#fits(waiter.request.requirements, reserved)) {
        this.#waiters.splice(i, 1);
        waiter.timer?.cancel();
        waiter.resolve(this.#grant(waiter.request));
      } else {
        addInto(reserved, waiter.request.requirements);
        i += 1;
      }
    }
  }

  #fits(requirements: ResourceAmounts, reserved: ResourceAmounts): boolean {
    for (const [kind, amount] of Object.entries(requirements)) {
      if (amount <= 0) continue;
      const left = (this.#free[kind] ?? 0) - (reserved[kind] ?? 0);
      if (amount > left + EPSILON) return false;
    }
    return true;
  }

  #grant(request: ResourceRequest): AllocationRecord {
    const amounts: ResourceAmounts = {};
    for (const [kind, amount] of Object.entries(request.requirements)) {
      if (amount <= 0) continue;
      amounts[kind] = amount;
      this.#free[kind] = (this.#free[kind] ?? 0) - amount;
    }
    const allocation: AllocationRecord = { id: randomUUID(), node: this.node, amounts };
    this.#allocations.set(allocation.id, allocation);
    return allocation;
  }

  #remove(waiter: Waiter): boolean {
    const i = this.#waiters.indexOf(waiter);
    if (i === -1) return false;
    this.#waiters.splice(i, 1);
    waiter.timer?.cancel();
    return true;
  }
}

function addInto(target: ResourceAmounts, amounts: ResourceAmounts): void {
  for (const [kind, amount] of Object.entries(amounts)) {
    if (amount > 0) target[kind] = (target[kind] ?? 0) + amount;
  }
}

const roundAmount = (n: number): number => Math.round(n * 1e6) / 1e6;
