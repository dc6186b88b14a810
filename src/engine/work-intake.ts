import type { ReadyWork, TaskRecord } from "../domain/records.js";
import type { StopListening } from "../transport/work-signal.js";
import type { EngineContext } from "./engine-context.js";
import { ReadyFrontier, type STOP } from "./ready-frontier.js";

/** The ready frontier holds this many tasks per execution slot. */
const FRONTIER_FACTOR = 8;
const FRONTIER_MIN = 256;
/** A claim lapses after this long (or lease_ms if shorter): a process that died frees its share soon. */
const CLAIM_MS = 5_000;

/** The worker an intake feeds. */
export interface IntakeWorker {
  /** There may be something to take. */
  pump(): void;
  /** Whether it holds this task already. */
  isActive(taskId: string): boolean;
  /** How many tasks it holds (a read from the top of the queue finds them too). */
  activeCount(): number;
}

/**
 * Where the worker side takes ready tasks from: the ready frontier (the best ready tasks, in
 * memory), fed by the work signal and by reading the store a page at a time. On a store this
 * process is the only executor of, a page is read after the frontier's worst task; on a shared
 * store, the frontier is this process's share of the queue, claimed (and given back when the
 * frontier lets go of a task or the worker stops), so that processes do not all race for the
 * same top tasks.
 */
export class WorkIntake {
  readonly #ctx: EngineContext;
  readonly #frontier: ReadyFrontier;
  readonly #worker: IntakeWorker;
  #refilling = false;
  /** Settles when the refill in flight (if any) has filled the frontier. */
  #refilled: Promise<void> = Promise.resolve();
  /** A task became ready while a refill was out, and the frontier did not keep it. */
  #missed = false;
  /**
   * Tasks signalled before they were written, until they are. A refill may read before that:
   * while one of them is neither in the frontier (not kept, or pushed out by a better one) nor
   * taken, no refill may say the frontier holds every ready task, or it would never look for
   * that task again.
   */
  readonly #unwritten = new Map<string, TaskRecord>();
  /** After a failed refill: how long before the next one (doubles while they fail). */
  #refillDelay = 0;
  /** The store hands out claims (a shared store): the frontier is filled by claiming. */
  readonly #claims: boolean;
  /**
   * The work signal hands over work claimed for this process, and is the only way work comes
   * (distributed mode: the broker's queue): the store is never read for more.
   */
  readonly #handedOver: boolean;
  /** Claims to give back (tasks the frontier let go of), in one write per turn. */
  #toGiveBack: Set<string> | undefined;
  #stopListening: StopListening | undefined;

  constructor(ctx: EngineContext, worker: IntakeWorker) {
    this.#ctx = ctx;
    this.#worker = worker;
    const max = ctx.options.max_concurrent_tasks;
    this.#handedOver = ctx.work.handsOverClaimed;
    this.#claims = ctx.store.claimReady !== undefined || this.#handedOver;
    // Claimed from a shared store, the frontier is this process's share of the queue: two tasks
    // per slot, so the other processes find the rest.
    this.#frontier = this.#claims
      ? new ReadyFrontier(max * 2, (task) => this.#giveBack(task.id))
      : new ReadyFrontier(Math.max(FRONTIER_MIN, max * FRONTIER_FACTOR));
    // Handed over, the frontier holds all the work this process has: it is complete, always.
    this.#frontier.complete = this.#handedOver;
  }

  /** Listens to the work signal; resolves once it does. */
  async listen(): Promise<void> {
    this.#stopListening ??= await this.#ctx.work.listen({
      ready: (work) => this.#ready(work),
      mayBeReady: () => this.workMayBeReady(),
    });
  }

  async stopListening(): Promise<void> {
    const stop = this.#stopListening;
    this.#stopListening = undefined;
    await stop?.();
  }

  /** Resolves once the refill in flight (the first page of ready tasks) is in the frontier. */
  filled(): Promise<void> {
    return this.#refilled;
  }

  /** Takes tasks from the frontier in scheduling order (see ReadyFrontier.takeEach). */
  takeEach<D>(
    decide: (task: TaskRecord) => D | undefined | typeof STOP,
  ): { task: TaskRecord; decision: D }[] {
    return this.#frontier.takeEach(decide, this.#frontier.capacity);
  }

  /** The worker took this task: it is never offered again, even once it ends. */
  taken(taskId: string): void {
    this.#unwritten.delete(taskId);
    if (this.#handedOver) this.#ctx.work.taken([taskId]);
  }

  /** Tasks claimed and not started, whose claims must be renewed while they wait (handed over). */
  heldClaims(): string[] {
    return this.#handedOver ? [...this.#frontier.ids()] : [];
  }

  /** A task just became ready here (retry due, recovered, handed back). */
  offer(task: TaskRecord): void {
    if (this.#worker.isActive(task.id)) return;
    // A refill read before this task was written cannot say the frontier holds every ready task.
    if (!this.#frontier.offer(task) && this.#refilling) this.#missed = true;
    if (this.#handedOver) this.#frontier.complete = true;
    this.#worker.pump();
  }

  /**
   * Work may be ready that no signal named (another process made it, or news was lost): the
   * frontier can no longer claim to hold every ready task, so the next top-up reads again.
   */
  workMayBeReady(): void {
    if (this.#handedOver) return; // there is nowhere else to look
    if (this.#refilling) this.#missed = true;
    this.#frontier.complete = false;
    this.#worker.pump();
  }

  /** Drops a queued task that another path ended (cancel, deadline), or one never written. */
  forget(taskId: string): void {
    this.#unwritten.delete(taskId);
    if (this.#frontier.remove(taskId) && this.#handedOver) this.#ctx.work.taken([taskId]);
  }

  /** Reads (or claims) more ready tasks when the frontier runs low. */
  topUp(): void {
    if (this.#handedOver) return; // work comes only as the signal hands it over
    // Claims top up as soon as there is room (one claim in flight): a claimed share is small.
    const low = this.#claims ? this.#frontier.capacity : this.#frontier.capacity / 2;
    if (this.#frontier.size < low) this.#refill();
  }

  /** Gives back every claim of this process (it stops taking work). */
  async releaseClaims(): Promise<void> {
    if (!this.#claims) return;
    await this.#ctx.store.releaseClaims!(this.#ctx.node);
  }

  #ready(work: ReadyWork): void {
    for (const task of work.tasks) {
      this.#unwritten.set(task.id, task);
      this.offer(task);
    }
    work.written.then(
      (ids) => this.#written(work.tasks, new Set(ids)),
      () => {
        for (const task of work.tasks) this.forget(task.id);
      },
    );
  }

  /**
   * Signalled tasks were written (those in `ids`; the others never will be): the ones the
   * frontier did not keep are offered again, now that a refill would find them; one it still
   * does not keep is left to the refills, which may no longer take the frontier for complete.
   */
  #written(tasks: readonly TaskRecord[], ids: ReadonlySet<string>): void {
    let again = false;
    for (const { id } of tasks) {
      const task = this.#unwritten.get(id);
      if (task === undefined) continue;
      if (!ids.has(id)) {
        this.forget(id);
        continue;
      }
      this.#unwritten.delete(id);
      if (this.#frontier.has(id)) continue;
      again = true;
      if (!this.#frontier.offer(task)) this.#frontier.complete = this.#handedOver;
    }
    if (again) this.#worker.pump();
  }

  /** Whether a task signalled but not written yet is where no refill could see it. */
  #unseenUnwritten(): boolean {
    for (const id of this.#unwritten.keys()) if (!this.#frontier.has(id)) return true;
    return false;
  }

  #refill(): void {
    if (this.#refilling || this.#frontier.complete) return;
    this.#refilling = true;
    this.#missed = false;
    // Continue after the worst task held (the frontier is the top of the queue), so rows already
    // in memory are not read again; from the top when it is empty, skipping those in flight.
    const after = this.#frontier.worst();
    const room = this.#frontier.capacity - this.#frontier.size;
    const read = this.#readReady(room, after).then(({ rows, limit }) => {
      this.#frontier.fill(
        rows.filter((row) => !this.#worker.isActive(row.id)),
        rows.length < limit && !this.#missed && !this.#unseenUnwritten(),
      );
    });
    const refilled = read.then(
      () => {
        this.#refilling = false;
        this.#refillDelay = 0;
        if (this.#frontier.size > 0 || !this.#frontier.complete) this.#worker.pump();
      },
      (error: unknown) => {
        // The store is away (a database restart): try again later, not in a tight loop.
        this.#refillDelay = Math.min(Math.max(100, this.#refillDelay * 2), 5_000);
        const { timers, clock } = this.#ctx;
        timers.at(clock.now() + this.#refillDelay, () => {
          this.#refilling = false;
          this.#worker.pump();
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
  async #readReady(
    room: number,
    after: TaskRecord | undefined,
  ): Promise<{ rows: TaskRecord[]; limit: number }> {
    const { store, node, clock, options } = this.#ctx;
    if (this.#claims) {
      const now = clock.now();
      const limit = Math.max(1, room);
      return {
        rows: await store.claimReady!(node, limit, now + Math.min(options.lease_ms, CLAIM_MS)),
        limit,
      };
    }
    // A read from the top finds the tasks this process runs, too: read that many more.
    const limit = after === undefined ? room + this.#worker.activeCount() : Math.max(1, room);
    return { rows: await store.fetchReady(limit, after), limit };
  }

  /** Gives back the claim on a task this process will not start (batched per turn). */
  #giveBack(taskId: string): void {
    if (this.#toGiveBack === undefined) {
      const ids = (this.#toGiveBack = new Set());
      setImmediate(() => {
        this.#toGiveBack = undefined;
        const { store, node, work } = this.#ctx;
        const given = store.releaseClaims!(node, [...ids]);
        this.#ctx.background("giving back claims", given);
        // Settled either way (a failed give-back lapses, and is handed over again then); the
        // failure itself is logged by background() above, not raised a second time here.
        const settleAll = () => work.taken([...ids]);
        if (this.#handedOver) given.then(settleAll, settleAll);
      });
    }
    this.#toGiveBack.add(taskId);
  }
}
