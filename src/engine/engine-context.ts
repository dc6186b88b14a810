import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Clock } from "../clock/clock.js";
import type { TimerQueue } from "../clock/timer-queue.js";
import type { CompiledOptions } from "../config/options.js";
import type { HandlerRegistry } from "../handlers/registry.js";
import type { ResourceManager } from "../resources/resource-manager.js";
import { StaleStateError } from "../store/errors.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type { TaskChange, TaskRecord } from "../domain/records.js";
import type { ClusterPlacement } from "./cluster-placement.js";
import type { EngineObserver } from "./engine-observer.js";
import type { SpecificationKeys } from "./sealed-specifications.js";
import type { ChangeOptions, ChangeOutcome, TaskStore } from "../store/task-store.js";
import type { RoutedStatus, StatusBus } from "../transport/status-bus.js";
import type { StatusFeed } from "../transport/status-feed.js";
import type { WorkSignal } from "../transport/work-signal.js";

/** What every part of the engine shares: its ports, settings and the one way to change a task. */
export class EngineContext {
  /** Asks housekeeping to run by `at` (a retry falls due, a deadline passes). Set by Housekeeping. */
  wake: (at: number) => void = () => {};
  readonly observers: EngineObserver[] = [];
  /**
   * The workers as a process that runs no tasks knows them (`taskexec api`): admission checks
   * types and requirements against them, and `/v1/resources` lists them. Undefined where this
   * process runs what it accepts.
   */
  cluster: ClusterPlacement | undefined;
  /**
   * The executors' keys for message-level encryption, where this process admits submissions:
   * admission opens a JWE `task_specification` with them. Undefined: encrypted ones are refused.
   */
  encryption: SpecificationKeys | undefined;
  /**
   * This run of the process: a node id set by hand outlives a restart, so the processes that
   * watch this node tell its incarnations apart by this.
   */
  readonly bootId = randomUUID();

  constructor(
    readonly options: CompiledOptions,
    readonly node: string,
    readonly store: TaskStore,
    readonly bus: StatusBus,
    readonly work: WorkSignal,
    /** What other processes sharing the store write (undefined in embedded mode). */
    readonly others: StatusFeed | undefined,
    readonly resources: ResourceManager,
    readonly registry: HandlerRegistry,
    readonly timers: TimerQueue,
    readonly clock: Clock,
    readonly log: Logger,
  ) {}

  /**
   * Makes a change durable, then announces it. Resolves to undefined when the task was no
   * longer in an expected state (another path got there first: a cancel, a deadline, recovery).
   * `options.onRecorded` runs once it is recorded, perhaps before it is durable (see
   * {@link ChangeOptions}).
   */
  async apply(change: TaskChange, options?: ChangeOptions): Promise<ChangeOutcome | undefined> {
    try {
      const outcome = await this.store.recordChange(change, options);
      this.announce([routed(outcome)]);
      this.observe(outcome.task, outcome.status);
      const task = outcome.task;
      if (task.state === "waiting" && task.leaseOwner === null) this.wake(task.runAt);
      return outcome;
    } catch (error) {
      if (error instanceof StaleStateError) return undefined;
      throw error;
    }
  }

  /**
   * Publishes durable statuses on the bus without waiting for it: they are in the store already,
   * and a watcher that misses one reads it there. A bus that fails is logged.
   */
  announce(statuses: readonly RoutedStatus[]): void {
    this.bus
      .publish(statuses)
      .catch((error: unknown) => this.log.error({ err: error }, "publishing statuses failed"));
  }

  /** Tells the observers about a durable change; an observer that throws is logged, not fatal. */
  observe(task: TaskRecord, status: TaskStatus): void {
    for (const observer of this.observers) {
      try {
        observer.onStatus(task, status);
      } catch (error) {
        this.log.error({ err: error }, "an engine observer threw");
      }
    }
  }

  /**
   * Applies several changes to one task atomically (one write), then announces each in order.
   * Resolves to undefined when a compare-and-set refused them (nothing was written).
   */
  async applySequence(changes: readonly TaskChange[]): Promise<ChangeOutcome[] | undefined> {
    let outcomes: ChangeOutcome[];
    try {
      outcomes = await this.store.recordChanges(changes);
    } catch (error) {
      if (error instanceof StaleStateError) return undefined;
      throw error;
    }
    this.announce(outcomes.map(routed));
    for (const outcome of outcomes) this.observe(outcome.task, outcome.status);
    const task = outcomes[outcomes.length - 1]?.task;
    if (task?.state === "waiting" && task.leaseOwner === null) this.wake(task.runAt);
    return outcomes;
  }

  /** Logs a background failure instead of letting it become an unhandled rejection. */
  background(what: string, promise: Promise<unknown>): void {
    promise.catch((error: unknown) => this.log.error({ err: error }, `${what} failed`));
  }
}

/** A durable change's status, routed with its task's submitter and facts. */
export function routed({ task, status }: { task: TaskRecord; status: TaskStatus }): RoutedStatus {
  return {
    submitter: task.submitter,
    status,
    task: { type: task.type, createdAt: task.createdAt, startedAt: task.startedAt },
  };
}
