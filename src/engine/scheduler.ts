import { TaskexecError } from "../protocol/errors.js";
import { AllocationCancelledError, type ResourceRequest } from "../resources/resource-manager.js";
import type { AllocationRecord, TaskRecord } from "../domain/records.js";
import type { EngineContext } from "./engine-context.js";
import { ReadyFrontier, STOP } from "./ready-frontier.js";
import { retryDelayMs } from "./retry-policy.js";
import {
  backToAllocation,
  deadlinePassedInQueue,
  errorInfo,
  executionStarted,
  failed,
  failure,
  resourcesWaiting,
} from "./status-changes.js";
import { type AbortCause, TaskAttempt } from "./task-attempt.js";

/** A task this executor holds: being allocated, waiting for resources, or executing. */
interface ActiveTask {
  submitter: string;
  /**
   * `waiting`: for resources, in the waiting room; it holds no execution slot. `recording`: the
   * handler is done and its outcome is being written; it holds no slot either.
   */
  phase: "allocating" | "waiting" | "executing" | "recording";
  attempt?: TaskAttempt;
}

/** What the scheduler does with a ready task it takes from the frontier. */
type Admission =
  | { kind: "run"; allocation: AllocationRecord }
  | { kind: "wait" }
  | { kind: "expired" }
  /** Already active here (offered again): dropped from the frontier. */
  | { kind: "held" };

/** The ready frontier holds this many tasks per execution slot. */
const FRONTIER_FACTOR = 8;
const FRONTIER_MIN = 256;
/** A claim lapses after this long (or lease_ms if shorter): a process that died frees its share soon. */
const CLAIM_MS = 5_000;

/**
 * Takes ready tasks in scheduling order and runs them within `max_concurrent_tasks` execution
 * slots. Only the frontier is in memory; the queue is on disk and read a frontier at a time.
 *
 * Fairness (docs/SECURITY.md): a slot is held only by a task that has its resources. A task whose
 * resources are not free waits in the *waiting room* (as many places as slots; one principal may
 * take at most half of them), where it holds no slot and reserves what it needs (see
 * ResourceManager). A task that can neither start nor wait stays queued, and the tasks behind it
 * in the frontier that can start, start: tasks waiting for a GPU never keep a no-op from the CPUs.
 */
export class Scheduler {
  readonly #ctx: EngineContext;
  readonly #frontier: ReadyFrontier;
  readonly #active = new Map<string, ActiveTask>();
  #running = false;
  #refilling = false;
  /** Settles when the refill in flight (if any) has filled the frontier. */
  #refilled: Promise<void> = Promise.resolve();
  /** A task became ready while a refill was out, and the frontier did not keep it. */
  #missed = false;
  /**
   * New tasks offered when their insert was queued, until it commits. A refill may read before
   * that commit: while one of them is neither in the frontier (not kept, or pushed out by a
   * better one) nor running, no refill may say the frontier holds every ready task, or it would
   * never look for that task again.
   */
  readonly #uncommitted = new Map<string, TaskRecord>();
  /** After a failed refill: how long before the next one (doubles while they fail). */
  #refillDelay = 0;
  /** The store hands out claims (a shared store): the frontier is filled by claiming. */
  readonly #claims: boolean;
  /** Claims to give back (tasks the frontier let go of), in one write per turn. */
  #toGiveBack: Set<string> | undefined;
  /** Active tasks in the `recording` phase (they hold a lease, not a slot). */
  #recording = 0;
  /** Active tasks in the `waiting` phase, all together and per principal (the waiting room). */
  #waiting = 0;
  readonly #waitingBy = new Map<string, number>();
  readonly #waitingRoom: number;
  readonly #waitingPerPrincipal: number;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    const max = ctx.options.max_concurrent_tasks;
    // Claimed from a shared store, the frontier is this process's share of the queue: about one
    // task per slot, so the other processes find the rest.
    this.#claims = ctx.store.claimReady !== undefined;
    this.#frontier = this.#claims
      ? new ReadyFrontier(max * 2, (task) => this.#giveBack(task.id))
      : new ReadyFrontier(Math.max(FRONTIER_MIN, max * FRONTIER_FACTOR));
    this.#waitingRoom = ctx.options.max_concurrent_tasks;
    this.#waitingPerPrincipal = Math.max(1, Math.ceil(this.#waitingRoom / 2));
  }

  isActive(taskId: string): boolean {
    return this.#active.has(taskId);
  }

  /** Ids of tasks whose leases this node must keep renewing. */
  leasedTaskIds(): string[] {
    return [...this.#active].filter(([, a]) => a.phase !== "allocating").map(([id]) => id);
  }

  /** Starts taking work; resolves once the frontier holds its first page of ready tasks. */
  async start(): Promise<void> {
    this.#running = true;
    this.pump();
    await this.#refilled;
  }

  /** Stops taking new work; what runs keeps running. */
  pause(): void {
    this.#running = false;
  }

  /** A task just became ready (accepted, retry due, recovered). */
  offer(task: TaskRecord): void {
    if (this.#active.has(task.id)) return;
    // A refill read before this task was written cannot say the frontier holds every ready task.
    if (!this.#frontier.offer(task) && this.#refilling) this.#missed = true;
    this.pump();
  }

  /**
   * Another process made tasks ready, or news of it may have been missed (shared store): the
   * frontier can no longer claim to hold every ready task, so the next pump reads again.
   */
  workMayBeReady(): void {
    if (this.#refilling) this.#missed = true;
    this.#frontier.complete = false;
    this.pump();
  }

  /** A new task whose insert is queued, not yet committed: {@link offer}, and see {@link committed}. */
  offerQueued(task: TaskRecord): void {
    this.#uncommitted.set(task.id, task);
    this.offer(task);
  }

  /**
   * The inserts of these tasks committed: those the frontier did not keep are offered again, now
   * that a refill would find them; one it still does not keep is left to the refills, which may
   * no longer take the frontier for complete.
   */
  committed(taskIds: readonly string[]): void {
    let again = false;
    for (const id of taskIds) {
      const task = this.#uncommitted.get(id);
      if (task === undefined) continue;
      this.#uncommitted.delete(id);
      if (this.#frontier.has(id)) continue;
      again = true;
      if (!this.#frontier.offer(task)) this.#frontier.complete = false;
    }
    if (again) this.pump();
  }

  /** Whether a task whose insert has not committed yet is where no refill could see it. */
  #unseenUncommitted(): boolean {
    for (const id of this.#uncommitted.keys()) if (!this.#frontier.has(id)) return true;
    return false;
  }

  /** Forgets a queued task that another path ended (cancel, deadline), or one never written. */
  forget(taskId: string): void {
    this.#uncommitted.delete(taskId);
    this.#frontier.remove(taskId);
    if (this.#active.get(taskId)?.phase === "waiting") this.#ctx.resources.cancelWait(taskId);
  }

  /** Stops a task's running attempt (its state is recorded by the caller). */
  abort(taskId: string, cause: AbortCause): void {
    this.#active.get(taskId)?.attempt?.abort(cause);
  }

  /** Resolves when every running attempt has finished, or after `ms`. Returns those still running. */
  async drain(ms: number): Promise<string[]> {
    const attempts = [...this.#active.values()].flatMap((a) => (a.attempt ? [a.attempt.done] : []));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(attempts), new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    return [...this.#active.keys()];
  }

  pump(): void {
    let free = this.#ctx.options.max_concurrent_tasks - (this.#active.size - this.#recording - this.#waiting);
    if (this.#running && free > 0) {
      // What could not start nor wait in this walk: a later task (ranked lower) asking the same
      // of the same principal cannot either, so it is passed over without asking the resources.
      const refused = new Set<string>();
      const taken = this.#frontier.takeEach((task) => {
        if (free <= 0) return STOP;
        const admission = this.#admission(task, refused);
        if (admission?.kind === "run" || admission?.kind === "expired") free -= 1;
        return admission;
      }, this.#frontier.capacity);
      for (const { task, decision } of taken) if (decision.kind !== "held") this.#begin(task, decision);
    }
    // Claims top up as soon as there is room (one claim in flight): a claimed share is small.
    const low = this.#claims ? this.#frontier.capacity : this.#frontier.capacity / 2;
    if (this.#running && this.#frontier.size < low) this.#refill();
  }

  /** Whether a ready task can be taken now, and how; undefined leaves it queued. */
  #admission(task: TaskRecord, refused: Set<string>): Admission | undefined {
    if (this.#active.has(task.id)) return { kind: "held" };
    if (task.deadline !== null && task.deadline <= this.#ctx.clock.now()) return { kind: "expired" };
    const asks = requestKey(task);
    if (asks !== undefined && refused.has(asks)) return undefined;
    const allocation = this.#ctx.resources.tryAllocate({
      taskId: task.id,
      requirements: task.requirements,
      key: task,
    });
    if (allocation !== undefined) return { kind: "run", allocation };
    const mine = this.#waitingBy.get(task.submitter) ?? 0;
    if (this.#waiting >= this.#waitingRoom || mine >= this.#waitingPerPrincipal) {
      if (asks !== undefined) refused.add(asks);
      return undefined;
    }
    // The place is taken now, so that the rest of this pump's walk sees it taken.
    this.#waiting += 1;
    this.#waitingBy.set(task.submitter, mine + 1);
    return { kind: "wait" };
  }

  #leaveWaiting(active: ActiveTask, next: ActiveTask["phase"]): void {
    if (active.phase !== "waiting") return;
    active.phase = next;
    this.#waiting -= 1;
    const mine = (this.#waitingBy.get(active.submitter) ?? 1) - 1;
    if (mine > 0) this.#waitingBy.set(active.submitter, mine);
    else this.#waitingBy.delete(active.submitter);
  }

  #refill(): void {
    if (this.#refilling || this.#frontier.complete) return;
    this.#refilling = true;
    this.#missed = false;
    // Continue after the worst task held (the frontier is the top of the queue), so rows already
    // in memory are not read again; from the top when it is empty, skipping those in flight.
    const after = this.#frontier.worst();
    const room = this.#frontier.capacity - this.#frontier.size;
    // Claims skip what this process holds already; a read from the top does not.
    const limit = after === undefined && !this.#claims ? room + this.#active.size : Math.max(1, room);
    const read = this.#readReady(limit, after).then((rows) => {
      this.#frontier.fill(
        rows.filter((row) => !this.#active.has(row.id)),
        rows.length < limit && !this.#missed && !this.#unseenUncommitted(),
      );
    });
    const refilled = read.then(
      () => {
        this.#refilling = false;
        this.#refillDelay = 0;
        if (this.#frontier.size > 0 || !this.#frontier.complete) this.pump();
      },
      (error: unknown) => {
        // The store is away (a database restart): try again later, not in a tight loop.
        this.#refillDelay = Math.min(Math.max(100, this.#refillDelay * 2), 5_000);
        const { timers, clock } = this.#ctx;
        timers.at(clock.now() + this.#refillDelay, () => {
          this.#refilling = false;
          this.pump();
        });
        throw error;
      },
    );
    this.#refilled = refilled.catch(() => {});
    this.#ctx.background("reading ready tasks", refilled);
  }

  /**
   * The next ready tasks: read after the frontier's worst (this process is the only one that
   * takes work), or claimed (other processes take work too, and claims keep us off each other's).
   */
  #readReady(limit: number, after: TaskRecord | undefined): Promise<TaskRecord[]> {
    const { store, node, clock, options } = this.#ctx;
    if (!this.#claims) return store.fetchReady(limit, after);
    const now = clock.now();
    return store.claimReady!(node, limit, now, now + Math.min(options.lease_ms, CLAIM_MS));
  }

  /** Gives back the claim on a task this process will not start (batched per turn). */
  #giveBack(taskId: string): void {
    if (this.#toGiveBack === undefined) {
      const ids = (this.#toGiveBack = new Set());
      setImmediate(() => {
        this.#toGiveBack = undefined;
        const { store, node } = this.#ctx;
        this.#ctx.background("giving back claims", store.releaseClaims!(node, [...ids]));
      });
    }
    this.#toGiveBack.add(taskId);
  }

  /** Gives back every claim of this process (it stops taking work). */
  async releaseClaims(): Promise<void> {
    if (!this.#claims) return;
    await this.#ctx.store.releaseClaims!(this.#ctx.node);
  }

  #begin(task: TaskRecord, admission: Exclude<Admission, { kind: "held" }>): void {
    this.#uncommitted.delete(task.id); // taken: never to be offered again, even once it ends
    const active: ActiveTask = { submitter: task.submitter, phase: "allocating" };
    this.#active.set(task.id, active);
    let work: Promise<void>;
    switch (admission.kind) {
      case "expired":
        work = this.#ctx.applySequence(deadlinePassedInQueue(task, this.#ctx.clock.now())).then(() => {});
        break;
      case "run":
        work = this.#execute(task, admission.allocation, active);
        break;
      case "wait":
        active.phase = "waiting"; // its place in the waiting room was taken by #admission
        work = this.#waitForResources(
          task,
          { taskId: task.id, requirements: task.requirements, key: task },
          active,
        );
        break;
    }
    this.#ctx.background(
      `running task ${task.id}`,
      work.finally(() => {
        if (active.phase === "recording") this.#recording -= 1;
        this.#leaveWaiting(active, "allocating");
        this.#active.delete(task.id);
        this.pump();
      }),
    );
  }

  async #execute(task: TaskRecord, allocation: AllocationRecord, active: ActiveTask): Promise<void> {
    const ctx = this.#ctx;
    const now = ctx.clock.now();
    const handler = ctx.registry.get(task.type);
    const onHandlerDone = () => {
      active.phase = "recording";
      this.#recording += 1;
      this.pump();
    };
    // The handler starts as soon as its start is committed: that survives a crash of this process
    // (the attempt is counted even if the handler brings the process down), and the disk sync
    // that makes it survive a power loss runs meanwhile, off the event loop. The start is
    // announced once it is durable; a power loss before then runs the attempt again.
    const started = await ctx
      .apply(executionStarted(task, allocation, ctx.node, now, now + ctx.options.lease_ms), {
        onCommitted: (outcome) => {
          if (handler === undefined) return;
          active.phase = "executing";
          active.attempt = new TaskAttempt(ctx, outcome.task, allocation, handler, onHandlerDone);
        },
      })
      .catch(async (error: unknown) => {
        // Committed but not made durable (the sync failed): the handler runs on; its attempt
        // gives the resources back.
        if (active.attempt !== undefined) await active.attempt.done;
        else ctx.resources.release(allocation);
        throw error;
      });
    if (active.attempt !== undefined) {
      await active.attempt.done;
      return;
    }
    ctx.resources.release(allocation);
    if (started === undefined) return;
    const error = errorInfo("handler_not_found", `no handler for task type "${task.type}" on ${ctx.node}`);
    await ctx.apply(failed(started.task, "executing", started.task.attempts, error, ctx.clock.now()));
  }

  async #waitForResources(task: TaskRecord, request: ResourceRequest, active: ActiveTask): Promise<void> {
    const ctx = this.#ctx;
    const now = ctx.clock.now();
    const waiting = await ctx.apply(resourcesWaiting(task, ctx.node, now, now + ctx.options.lease_ms));
    if (waiting === undefined) return;
    let allocation: AllocationRecord;
    try {
      allocation = await ctx.resources.waitFor(request, now + ctx.options.allocation_timeout_ms);
    } catch (error) {
      if (error instanceof AllocationCancelledError) return;
      if (!(error instanceof TaskexecError)) throw error;
      // The allocation timed out: that uses up an attempt, retried with backoff like any other.
      const later = ctx.clock.now();
      const attempts = waiting.task.attempts + 1;
      const retryAt = later + retryDelayMs(ctx.options.retry, attempts);
      await ctx.apply(
        failure(waiting.task, "waiting", attempts, errorInfo(error.code, error.message), later, retryAt),
      );
      return;
    }
    // Granted: from here the task holds an execution slot. (When every slot is taken, this may
    // briefly run one more task than max_concurrent_tasks; never more than the waiting room.)
    this.#leaveWaiting(active, "allocating");
    const back = await ctx.apply(backToAllocation(waiting.task, ctx.clock.now()));
    if (back === undefined) {
      ctx.resources.release(allocation);
      return;
    }
    await this.#execute(back.task, allocation, active);
  }
}

/** Who asks for what, as a key; undefined for a task that asks for no resources (it always fits). */
function requestKey(task: TaskRecord): string | undefined {
  let key: string | undefined;
  for (const kind in task.requirements)
    key = `${key ?? task.submitter}\u0000${kind}=${task.requirements[kind]}`;
  return key;
}
