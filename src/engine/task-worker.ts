import { TaskexecError } from "../protocol/errors.js";
import { AllocationCancelledError, type ResourceRequest } from "../resources/resource-manager.js";
import type { AllocationRecord, TaskRecord } from "../domain/records.js";
import type { EngineContext } from "./engine-context.js";
import { STOP } from "./ready-frontier.js";
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
import { WorkIntake } from "./work-intake.js";

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

/**
 * The worker side of the executor: takes ready tasks from its {@link WorkIntake} in scheduling
 * order, allocates their resources, runs them within `max_concurrent_tasks` execution slots, and
 * records what became of each.
 *
 * Fairness (docs/SECURITY.md): a slot is held only by a task that has its resources. A task whose
 * resources are not free waits in the *waiting room* (as many places as slots; one principal may
 * take at most half of them), where it holds no slot and reserves what it needs (see
 * ResourceManager). A task that can neither start nor wait stays queued, and the tasks behind it
 * in the frontier that can start, start: tasks waiting for a GPU never keep a no-op from the CPUs.
 */
export class TaskWorker {
  readonly #ctx: EngineContext;
  readonly #intake: WorkIntake;
  readonly #active = new Map<string, ActiveTask>();
  #running = false;
  /** Active tasks in the `recording` phase (they hold a lease, not a slot). */
  #recording = 0;
  /** Active tasks in the `waiting` phase, all together and per principal (the waiting room). */
  #waiting = 0;
  readonly #waitingBy = new Map<string, number>();
  readonly #waitingRoom: number;
  readonly #waitingPerPrincipal: number;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    this.#intake = new WorkIntake(ctx, {
      pump: () => this.pump(),
      isActive: (id) => this.#active.has(id),
      activeCount: () => this.#active.size,
    });
    this.#waitingRoom = ctx.options.max_concurrent_tasks;
    this.#waitingPerPrincipal = Math.max(1, Math.ceil(this.#waitingRoom / 2));
  }

  isActive(taskId: string): boolean {
    return this.#active.has(taskId);
  }

  /** Ids of tasks whose leases this node must keep renewing. */
  leasedTaskIds(): string[] {
    const active = [...this.#active].filter(([, a]) => a.phase !== "allocating").map(([id]) => id);
    return [...active, ...this.#intake.heldClaims()];
  }

  /** Listens for work; starts taking it once `start` is called. */
  async listen(): Promise<void> {
    await this.#intake.listen();
  }

  /** Starts taking work; resolves once the frontier holds its first page of ready tasks. */
  async start(): Promise<void> {
    this.#running = true;
    this.pump();
    await this.#intake.filled();
  }

  /** Stops taking new work; what runs keeps running. */
  pause(): void {
    this.#running = false;
  }

  /** Stops listening for work and gives back what it claimed and did not start. */
  async stopTaking(): Promise<void> {
    this.#running = false;
    await this.#intake.stopListening();
    await this.#intake.releaseClaims();
  }

  /** Work may be ready that no signal named (a poll on a shared store): look for it. */
  workMayBeReady(): void {
    this.#intake.workMayBeReady();
  }

  /** Forgets a queued task that another path ended (cancel, deadline). */
  forget(taskId: string): void {
    this.#intake.forget(taskId);
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
    if (!this.#running) return;
    let free = this.#ctx.options.max_concurrent_tasks - (this.#active.size - this.#recording - this.#waiting);
    if (free > 0) {
      // What could not start nor wait in this walk: a later task (ranked lower) asking the same
      // of the same principal cannot either, so it is passed over without asking the resources.
      const refused = new Set<string>();
      const taken = this.#intake.takeEach((task) => {
        if (free <= 0) return STOP;
        const admission = this.#admission(task, refused);
        if (admission?.kind === "run" || admission?.kind === "expired") free -= 1;
        return admission;
      });
      for (const { task, decision } of taken) if (decision.kind !== "held") this.#begin(task, decision);
    }
    this.#intake.topUp();
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

  #begin(task: TaskRecord, admission: Exclude<Admission, { kind: "held" }>): void {
    this.#intake.taken(task.id);
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
    // The handler starts as soon as its start is recorded: that survives a crash of this process
    // (the attempt is counted even if the handler brings the process down), and what makes it
    // survive a power loss (SQLite: the disk sync) runs meanwhile. The start is announced once it
    // is durable; a power loss before then runs the attempt again.
    const started = await ctx
      .apply(executionStarted(task, allocation, ctx.node, now, now + ctx.options.lease_ms), {
        onRecorded: (outcome) => {
          if (handler === undefined) return;
          active.phase = "executing";
          active.attempt = new TaskAttempt(ctx, outcome.task, allocation, handler, onHandlerDone);
        },
      })
      .catch(async (error: unknown) => {
        // Recorded but not made durable (the sync failed): the handler runs on; its attempt
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
