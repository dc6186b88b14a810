import type { TimerHandle } from "../clock/timer-queue.js";
import { type TaskRecord, writtenWork } from "../domain/records.js";
import type { EngineContext } from "./engine-context.js";
import { isDeadLocalOwner } from "./node-identity.js";
import { retryDelayMs } from "./retry-policy.js";
import type { TaskWorker } from "./task-worker.js";
import { backToAllocation, completed, deadlinePassedInQueue, errorInfo, failure } from "./status-changes.js";

const BATCH = 500;
const RETENTION_EVERY_MS = 3_600_000;
/**
 * How often the lease owners are read to find local ones whose process is gone. The read visits
 * every lease entry (dead index entries too, until vacuum), so not at every sweep: a lease whose
 * owner died lapses by itself anyway; this only recovers a crashed sibling's tasks sooner.
 */
const OWNERS_EVERY_MS = 5_000;

/**
 * The engine's clockwork, on one timer each: brings due retries back to the queue, fails queued
 * tasks whose deadline passed, recovers tasks whose executor was lost (an expired lease, or a
 * local owner process that no longer exists), renews this node's leases, and removes finished
 * tasks past `retention`.
 */
export class Housekeeping {
  readonly #ctx: EngineContext;
  readonly #worker: TaskWorker;
  #sweepTimer: TimerHandle | undefined;
  #sweepAt = Number.POSITIVE_INFINITY;
  #sweeping: Promise<void> | undefined;
  #again = false;
  /** Local lease owners whose process is gone, as last read, and when. */
  #deadOwners: string[] = [];
  #ownersReadAt = Number.NEGATIVE_INFINITY;
  #leaseTimer: TimerHandle | undefined;
  /** Until when the leases renewed last are held (by this node's clock, from when it asked). */
  #heldUntil = Number.POSITIVE_INFINITY;
  #retentionTimer: TimerHandle | undefined;
  #reannounceTimer: TimerHandle | undefined;
  #pollTimer: TimerHandle | undefined;
  #heartbeatTimer: TimerHandle | undefined;
  /** Heartbeats in a row that could not be recorded (the store is away). */
  #heartbeatsMissed = 0;
  #stopped = false;

  constructor(ctx: EngineContext, worker: TaskWorker) {
    this.#ctx = ctx;
    this.#worker = worker;
    ctx.wake = (at) => this.#wakeAt(at);
  }

  /** Recovers what a previous run left behind, then keeps the clockwork going. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.sweep();
    this.#heldUntil = this.#ctx.clock.now() + this.#ctx.options.lease_ms;
    this.#renewLeasesLater();
    this.#retainLater(0);
    if (this.#ctx.store.capabilities.concurrentClaims) this.#pollLater();
    if (this.#ctx.store.reannounceReady !== undefined && this.#ctx.work.carriesNoWork !== undefined)
      this.#reannounceLater();
    if (this.#ctx.store.recordNode !== undefined) await this.#heartbeat();
  }

  /** Records this node's resources for the other processes' views, every `heartbeat_ms`. */
  async #heartbeat(): Promise<void> {
    const { store, node, resources, registry, clock, timers, options, bootId } = this.#ctx;
    try {
      const report = {
        ...resources.snapshot(),
        bootId,
        handlerTypes: registry.types(),
        types: [...registry.describe()],
      };
      await store.recordNode!(node, report, clock.now());
      if (this.#heartbeatsMissed > 0)
        this.#ctx.log.info({ missed: this.#heartbeatsMissed }, "recording this node's heartbeat again");
      this.#heartbeatsMissed = 0;
    } catch (error) {
      // Once per outage, not every beat: the store's own errors say the rest.
      if (this.#heartbeatsMissed === 0)
        this.#ctx.log.warn(
          { err: error },
          "could not record this node's heartbeat; trying every heartbeat_ms",
        );
      this.#heartbeatsMissed += 1;
    }
    if (this.#stopped) return;
    this.#heartbeatTimer = timers.at(clock.now() + options.heartbeat_ms, () => {
      this.#ctx.background("heartbeat", this.#heartbeat());
    });
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of [
      this.#sweepTimer,
      this.#leaseTimer,
      this.#retentionTimer,
      this.#reannounceTimer,
      this.#pollTimer,
      this.#heartbeatTimer,
    ])
      timer?.cancel();
    this.#sweepAt = Number.POSITIVE_INFINITY;
  }

  /** One pass over retries, deadlines and lost leases; concurrent calls share a pass. */
  sweep(): Promise<void> {
    if (this.#sweeping) {
      this.#again = true;
      return this.#sweeping;
    }
    this.#sweeping = this.#sweepLoop().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweepLoop(): Promise<void> {
    const { store, clock, options } = this.#ctx;
    do {
      this.#again = false;
      const now = clock.now();
      if (now - this.#ownersReadAt >= OWNERS_EVERY_MS) {
        this.#deadOwners = (await store.leaseOwners()).filter(
          (owner) => owner !== this.#ctx.node && isDeadLocalOwner(owner),
        );
        this.#ownersReadAt = now;
      }
      const dead = this.#deadOwners;
      const lost = await store.fetchLostLeases(now, dead, BATCH);
      const due = await store.fetchDueRetries(now, BATCH);
      const overdue = await store.fetchOverdue(now, BATCH);
      // A process that died holding claims: their tasks are free to claim again (distributed
      // mode: they go to the relay again).
      const lapsed = (await store.releaseLapsedClaims?.(now, BATCH)) ?? 0;
      if (lapsed > 0) {
        this.#ctx.log.warn({ tasks: lapsed }, "handing over again ready tasks whose claims lapsed");
        await this.#ctx.work.mayBeReady();
      }
      const mine = (t: TaskRecord) => t.leaseOwner === this.#ctx.node && this.#worker.isActive(t.id);
      await Promise.all([
        ...lost.filter((t) => !mine(t)).map((t) => this.#recover(t, now)),
        ...due.map((t) => this.#requeue(t, now, { reason: "retry_due" })),
        // Overdue tasks are queued by definition; one this node holds is waiting for resources,
        // and forget() ends that wait before the task is failed.
        ...overdue.map((t) => this.#expire(t, now)),
      ]);
      if ([lost.length, due.length, overdue.length, lapsed].includes(BATCH)) this.#again = true;
    } while (this.#again && !this.#stopped);
    if (this.#stopped) return;
    const next = (await store.nextWakeAt()) ?? Number.POSITIVE_INFINITY;
    this.#wakeAt(Math.min(next, clock.now() + options.lease_ms));
  }

  /** A task whose executor is gone: the attempt counts as failed with `executor_lost`. */
  async #recover(task: TaskRecord, now: number): Promise<void> {
    const ctx = this.#ctx;
    ctx.log.warn(
      { task_id: task.id, owner: task.leaseOwner, state: task.state },
      "recovering a task from a lost executor",
    );
    if (task.state === "completing") {
      await ctx.apply(completed(task, task.attempts, task.result, now));
    } else if (task.state === "waiting") {
      await this.#requeue(task, now, { reason: "executor_lost" });
    } else if (task.state === "executing") {
      const error = errorInfo(
        "executor_lost",
        `executor ${task.leaseOwner} stopped during attempt ${task.attempts}`,
      );
      const retryAt = now + retryDelayMs(ctx.options.retry, task.attempts);
      await ctx.apply(failure(task, "executing", task.attempts, error, now, retryAt));
    }
  }

  async #requeue(task: TaskRecord, now: number, details: Record<string, unknown>): Promise<void> {
    const outcome = await this.#ctx.apply(backToAllocation(task, now, details));
    // Through the work signal: in process a call to this worker; a broker would hand it to any.
    if (outcome) this.#ctx.work.ready(writtenWork([outcome.task]));
  }

  async #expire(task: TaskRecord, now: number): Promise<void> {
    this.#worker.forget(task.id);
    await this.#ctx.applySequence(deadlinePassedInQueue(task, now));
  }

  #wakeAt(at: number): void {
    if (this.#stopped || at >= this.#sweepAt) return;
    this.#sweepTimer?.cancel();
    this.#sweepAt = at;
    this.#sweepTimer = this.#ctx.timers.at(at, () => {
      this.#sweepAt = Number.POSITIVE_INFINITY;
      this.#ctx.background("housekeeping", this.sweep());
    });
  }

  /**
   * On a store other processes write too: news of their work is a hint that can be lost (a
   * notification sent while this process was reconnecting), so the queue and the clockwork are
   * looked at again every `poll_ms`, with jitter so processes do not poll in step. Their retries
   * and deadlines are this process's business too: the sweep covers them.
   */
  #pollLater(): void {
    const { options, timers, clock } = this.#ctx;
    const delay = options.poll_ms * (0.75 + Math.random() / 2);
    this.#pollTimer = timers.at(clock.now() + delay, () => {
      this.#worker.workMayBeReady();
      this.#ctx.background(
        "housekeeping",
        this.sweep().finally(() => !this.#stopped && this.#pollLater()),
      );
    });
  }

  #renewLeasesLater(): void {
    const { options, timers, clock } = this.#ctx;
    this.#leaseTimer = timers.at(clock.now() + options.lease_ms / 3, () => {
      this.#ctx.background(
        "renewing leases",
        this.#renewLeases().finally(() => !this.#stopped && this.#renewLeasesLater()),
      );
    });
  }

  /**
   * Renews this node's leases. A task whose lease lapsed (no renewal went through for a whole
   * lease: the process was frozen, or the store away) or that the store says another holds now is
   * aborted at once: another executor may be running it, and this one could record nothing more.
   */
  async #renewLeases(): Promise<void> {
    const { store, node, clock, options, log } = this.#ctx;
    const ids = this.#worker.leasedTaskIds();
    const now = clock.now();
    if (ids.length === 0) {
      this.#heldUntil = now + options.lease_ms;
      return;
    }
    if (now >= this.#heldUntil) {
      log.warn(
        { tasks: ids.length, lapsed_ms: now - this.#heldUntil },
        "leases lapsed unrenewed: aborting their tasks",
      );
      for (const id of ids) this.#worker.abort(id, "lease_lost");
    }
    let held: number;
    try {
      held = await store.renewLeases(node, ids, now + options.lease_ms);
    } catch (error) {
      log.warn({ err: error }, "could not renew leases; their tasks are aborted if they lapse");
      return;
    }
    this.#heldUntil = now + options.lease_ms;
    if (held >= ids.length) return;
    const records = await Promise.all(ids.map((id) => store.getTask(id)));
    const lost = ids.filter((_, i) => records[i]?.leaseOwner !== node);
    if (lost.length > 0)
      log.warn({ task_ids: lost }, "another executor holds these tasks' leases now: aborting them here");
    for (const id of lost) this.#worker.abort(id, "lease_lost");
  }

  /**
   * Distributed mode: ready tasks nobody claimed for `cluster.reannounce_after` are announced
   * again, when the broker's queue is empty (a backlog still in the queue is not stranded).
   */
  #reannounceLater(): void {
    const { options, timers, clock, store, work, log } = this.#ctx;
    const every = options.cluster.reannounce_after;
    this.#reannounceTimer = timers.at(clock.now() + every / 2, () => {
      const pass = async () => {
        if (!(await work.carriesNoWork!())) return;
        const now = clock.now();
        const again = await store.reannounceReady!(now, now - every, BATCH);
        if (again === 0) return;
        log.warn(
          { tasks: again },
          "announcing again ready tasks no one claimed (their messages were lost or held)",
        );
        await work.mayBeReady();
      };
      this.#ctx.background(
        "announcing stranded work again",
        pass()
          .catch((error: unknown) => log.warn({ err: error }, "could not look for stranded ready work"))
          .finally(() => !this.#stopped && this.#reannounceLater()),
      );
    });
  }

  #retainLater(delay: number): void {
    const { options, timers, clock, store } = this.#ctx;
    this.#retentionTimer = timers.at(clock.now() + delay, () => {
      const purge = async () => {
        const cutoff = clock.now() - options.retention;
        let removed = 0;
        for (let n = BATCH; n === BATCH && !this.#stopped; removed += n)
          n = await store.deleteFinishedBefore(cutoff, BATCH);
        if (removed > 0) this.#ctx.log.info({ removed }, "removed finished tasks past retention");
      };
      this.#ctx.background(
        "retention",
        purge().finally(() => !this.#stopped && this.#retainLater(RETENTION_EVERY_MS)),
      );
    });
  }
}
