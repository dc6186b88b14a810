import type { SoleDuty } from "../store/sole-duty.js";
import type { ResealCursor, ResealStep } from "../store/reseal.js";
import type { TaskStore } from "../store/task-store.js";
import type { AnyTaskHandler } from "../handlers/handler.js";
import type { HandlerTypeInfo } from "../handlers/registry.js";
import { AmbiguousTaskIdError, TaskNotFoundError } from "../protocol/errors.js";
import { isTerminal, type TaskState } from "../protocol/states.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type { ResourceSnapshot } from "../resources/resource-manager.js";
import type { AuditEntry, AuditFilter, AuditRecord, ObservedStatus, TaskRecord } from "../domain/records.js";
import type { ClusterNode } from "./cluster-placement.js";
import { type Principal, type SubmitOutcome, TaskAdmission } from "./task-admission.js";
import { readIdAbbreviation } from "./task-id-abbreviation.js";
import type { EngineContext } from "./engine-context.js";
import type { EngineObserver } from "./engine-observer.js";
import { Housekeeping } from "./housekeeping.js";
import { TaskWorker } from "./task-worker.js";
import { cancelled } from "./status-changes.js";
import { decodeCursor, encodeCursor } from "./list-cursor.js";
import { type TaskSummary, toSummary } from "./task-snapshot.js";
import { watchStatuses } from "./watch-statuses.js";

export type { Principal, SubmitOutcome } from "./task-admission.js";

/** The executor's lifecycle. `stop()` moves running → stopping → stopped. */
export type ExecutorLifecycle = "created" | "starting" | "running" | "stopping" | "stopped";

export interface ListOptions {
  state?: TaskState | undefined;
  type?: string | undefined;
  /** Matches the start of the id or reference id, or any part of the type. */
  text?: string | undefined;
  /** One submitter's tasks; only principals who see every task may name another. */
  submitter?: string | undefined;
  limit?: number | undefined;
  /** The `nextCursor` of the previous page. */
  cursor?: string | undefined;
  /** A page stops before the row that would take its summaries (as JSON) past this many bytes. */
  maxBytes?: number | undefined;
}

export type { ClusterNode } from "./cluster-placement.js";

/**
 * What this process does: `all` (embedded and shared-database modes: admission and execution);
 * `admission` (`taskexec api`: accepts, answers and cancels, runs nothing); `worker`
 * (`taskexec worker`: runs tasks and keeps the clockwork, accepts nothing).
 */
export type ExecutorRole = "all" | "admission" | "worker";

export interface TaskListPage {
  tasks: TaskSummary[];
  nextCursor: string | null;
}

/**
 * The lifecycle driver: accepts `submit_task` messages, keeps them durable, runs them through
 * the worker side and handlers, and announces every change as a `task_status`.
 */
export class TaskExecutor {
  readonly #ctx: EngineContext;
  readonly #worker: TaskWorker;
  readonly #housekeeping: Housekeeping;
  readonly #admission: TaskAdmission;
  readonly #ownsStore: boolean;
  readonly #role: ExecutorRole;
  readonly #readinessChecks: (() => void | Promise<void>)[] = [];
  #state: ExecutorLifecycle = "created";
  /** Ends listening to the other processes on a shared store. */
  #stopWatching: (() => Promise<void>) | undefined;

  constructor(ctx: EngineContext, options: { ownsStore: boolean; role?: ExecutorRole }) {
    this.#ctx = ctx;
    this.#ownsStore = options.ownsStore;
    this.#role = options.role ?? "all";
    this.#worker = new TaskWorker(ctx);
    this.#housekeeping = new Housekeeping(ctx, this.#worker);
    this.#admission = new TaskAdmission(ctx);
  }

  get state(): ExecutorLifecycle {
    return this.#state;
  }

  get node(): string {
    return this.#ctx.node;
  }

  /** Adds a handler; tasks of its type are accepted from now on. */
  register(handler: AnyTaskHandler): void {
    this.#ctx.registry.register(handler);
  }

  get role(): ExecutorRole {
    return this.#role;
  }

  /** The handler types this process runs (a process that runs none: those the live workers run). */
  handlerTypes(): string[] {
    const { cluster, clock } = this.#ctx;
    return cluster === undefined ? this.#ctx.registry.types() : cluster.handlerTypes(clock.now());
  }

  /**
   * The store's count of each principal's submissions for every process sharing it (the rate
   * limit across processes); undefined where this process is the store's only one.
   */
  sharedSubmitAllowance(): TaskStore["takeSubmitAllowance"] {
    const store = this.#ctx.store;
    return store.takeSubmitAllowance?.bind(store);
  }

  /** The types this executor runs (a process that runs none: the workers'), each with its parameters' JSON Schema and example. */
  describeTypes(): readonly HandlerTypeInfo[] {
    const { cluster, clock } = this.#ctx;
    return cluster === undefined ? this.#ctx.registry.describe() : cluster.describeTypes(clock.now());
  }

  /** Recovers what a previous run left (lost leases, due retries), then starts running tasks. */
  async start(): Promise<void> {
    if (this.#state !== "created" && this.#state !== "stopped") return;
    this.#state = "starting";
    const runs = this.#role !== "admission";
    if (runs) await this.#worker.listen();
    this.#stopWatching = await this.#ctx.others?.listen((observed) => this.#heardFromOthers(observed), {
      // A worker hears of other processes' statuses only to stop what it runs (a cancel).
      only: this.#role === "worker" ? (taskId) => this.#worker.isActive(taskId) : undefined,
    });
    if (runs) await this.#housekeeping.start();
    this.#state = "running";
    if (runs) await this.#worker.start();
    this.#ctx.log.info(
      { node: this.node, role: this.#role, handlers: this.#ctx.registry.types() },
      "executor started",
    );
  }

  /**
   * Stops taking work, gives running tasks `graceMs` to finish, and puts the rest back in the
   * queue (their attempt is given back: a shutdown is not the task's fault).
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    if (this.#state === "stopped" || this.#state === "stopping") return;
    this.#state = "stopping";
    this.#worker.pause();
    // Let start transitions already queued commit, so their attempts exist and are drained too.
    await new Promise((resolve) => setImmediate(resolve));
    await this.#worker.stopTaking().catch((error: unknown) => {
      this.#ctx.log.warn({ err: error }, "could not give back claims (they lapse by themselves)");
    });
    const left = await this.#worker.drain(options.graceMs ?? this.#ctx.options.shutdown_grace_ms);
    await Promise.all(left.map((id) => this.#requeueOnShutdown(id)));
    this.#housekeeping.stop();
    await this.#ctx.store.recordNode?.(this.node, undefined, this.#ctx.clock.now()).catch(() => {});
    await this.#stopWatching?.();
    this.#stopWatching = undefined;
    this.#ctx.timers.clear();
    if (this.#ownsStore) {
      await this.#ctx.others?.close();
      await this.#ctx.work.close();
      await this.#ctx.store.close();
    }
    this.#state = "stopped";
    this.#ctx.log.info({ node: this.node, requeued: left.length }, "executor stopped");
  }

  /**
   * Statuses another process wrote (shared store): watchers here hear them too, and a task this
   * process holds that another one ended (a cancel that came in there) stops here.
   */
  #heardFromOthers(observed: readonly ObservedStatus[]): void {
    // A bus that reaches other processes has delivered them here already.
    if (!this.#ctx.bus.reachesOthers) this.#ctx.announce(observed);
    for (const observer of this.#ctx.observers) {
      if (observer.onOtherStatus === undefined) continue;
      for (const one of observed) {
        try {
          observer.onOtherStatus(one);
        } catch (error) {
          this.#ctx.log.error({ err: error }, "an engine observer threw");
        }
      }
    }
    for (const { status } of observed) {
      const taskId = status.header.task_id;
      if (taskId === null || !isTerminal(status.body.status)) continue;
      this.#worker.forget(taskId);
      if (this.#worker.isActive(taskId)) this.#worker.abort(taskId, "cancelled");
    }
  }

  async #requeueOnShutdown(taskId: string): Promise<void> {
    const ctx = this.#ctx;
    this.#worker.abort(taskId, "shutdown");
    this.#worker.forget(taskId);
    const task = await ctx.store.getTask(taskId);
    if (task === undefined || (task.state !== "executing" && task.state !== "waiting")) return;
    const now = ctx.clock.now();
    await ctx.apply({
      taskId,
      from: [task.state],
      to: task.state === "executing" ? "waiting" : "resource_allocation",
      patch: {
        attempts: task.state === "executing" ? Math.max(0, task.attempts - 1) : task.attempts,
        runAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
        allocation: null,
      },
      status: {
        messageId: crypto.randomUUID(),
        at: now,
        details: { reason: "executor_shutdown", node: ctx.node },
      },
    });
  }

  /**
   * Submits one `submit_task`. Throws {@link MalformedMessageError} for a message that is not one,
   * and a `quota_exceeded` {@link TaskexecError} when the principal's quota has no room for it.
   */
  async submit(
    principal: Principal,
    message: unknown,
  ): Promise<Exclude<SubmitOutcome, { kind: "malformed" | "refused" }>> {
    const [outcome] = await this.submitMany(principal, [message]);
    if (outcome!.kind === "malformed" || outcome!.kind === "refused") throw outcome!.error;
    return outcome!;
  }

  /** Submits many messages in one transaction; one bad message never spoils the others. */
  submitMany(principal: Principal, messages: readonly unknown[]): Promise<SubmitOutcome[]> {
    if (this.#state === "stopped") return Promise.reject(new Error("the executor is stopped"));
    return this.#admission.submitMany(principal, messages);
  }

  /** Cancels a task that has not finished; a finished one is left as it is (`changed: false`). */
  async cancel(
    principal: Principal,
    taskRef: string,
    reason = "cancelled by request",
  ): Promise<{ status: TaskStatus; changed: boolean }> {
    const ctx = this.#ctx;
    const task = await this.getTask(principal, taskRef);
    const taskId = task.id;
    const now = ctx.clock.now();
    const outcome = isTerminal(task.state)
      ? undefined
      : await ctx.apply(cancelled(task, reason, principal.id, now));
    await ctx.store.appendAudit([
      {
        at: now,
        principal: principal.id,
        action: "cancel_task",
        messageId: null,
        taskId,
        decision: outcome ? "cancelled" : "already_finished",
        payload: { reason },
      },
    ]);
    if (outcome === undefined) {
      const statuses = await ctx.store.getStatuses(
        taskId,
        Math.max(0, (await ctx.store.getTask(taskId))!.lastSequence - 1),
      );
      return { status: statuses[statuses.length - 1]!, changed: false };
    }
    this.#worker.forget(taskId);
    this.#worker.abort(taskId, "cancelled");
    return { status: outcome.status, changed: true };
  }

  /** The id of the principal's task submitted with `messageId` (a `cancel_task`'s `reference_id`). */
  async taskIdByReference(principal: Principal, messageId: string): Promise<string> {
    const task = await this.#ctx.store.getTaskByMessageId(principal.id, messageId);
    if (task === undefined) throw new TaskNotFoundError(messageId);
    return task.id;
  }

  /**
   * A task the principal may see, by its id or an abbreviation of it (a unique start or end of 8 or
   * more characters, or `start…end`); {@link TaskNotFoundError} for any other (never "forbidden"),
   * {@link AmbiguousTaskIdError} when the abbreviation fits several of the principal's tasks.
   */
  async getTask(principal: Principal, taskId: string): Promise<TaskRecord> {
    const store = this.#ctx.store;
    const visible = (task: TaskRecord | undefined) =>
      task !== undefined && (principal.admin || task.submitter === principal.id) ? task : undefined;
    const exact = visible(await store.getTask(taskId));
    if (exact !== undefined) return exact;
    const abbreviations = readIdAbbreviation(taskId);
    if (abbreviations.length === 0) throw new TaskNotFoundError(taskId);
    const shown = 10;
    const submitter = principal.admin ? undefined : principal.id;
    const found = await Promise.all(
      abbreviations.map((a) => store.findTaskIds({ ...a, submitter }, shown + 1)),
    );
    const ids = [...new Set(found.flat())].sort();
    if (ids.length > 1) throw new AmbiguousTaskIdError(taskId, ids.slice(0, shown), ids.length > shown);
    const task = ids.length === 1 ? visible(await store.getTask(ids[0]!)) : undefined;
    if (task === undefined) throw new TaskNotFoundError(taskId);
    return task;
  }

  /** The principal's tasks (admins: all), newest first, a page of summaries at a time. */
  async listTasks(principal: Principal, options: ListOptions = {}): Promise<TaskListPage> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
    const tasks = await this.#ctx.store.listTasks({
      submitter: principal.admin ? options.submitter : principal.id,
      state: options.state,
      type: options.type,
      text: options.text,
      limit,
      beforeSeq: options.cursor === undefined ? undefined : decodeCursor(options.cursor),
    });
    // Bounded in bytes as well as rows: a page holds at least one row, and stops before the row
    // that would take it past maxBytes (the cursor then continues from there).
    const summaries: TaskSummary[] = [];
    let bytes = 0;
    for (const task of tasks) {
      const summary = toSummary(task);
      if (options.maxBytes !== undefined) {
        bytes += Buffer.byteLength(JSON.stringify(summary));
        if (bytes > options.maxBytes && summaries.length > 0) break;
      }
      summaries.push(summary);
    }
    const last = tasks[summaries.length - 1];
    const more = summaries.length < tasks.length || tasks.length === limit;
    return { tasks: summaries, nextCursor: more && last !== undefined ? encodeCursor(last.submitSeq) : null };
  }

  async getStatuses(principal: Principal, taskRef: string, afterSequence = 0): Promise<TaskStatus[]> {
    const task = await this.getTask(principal, taskRef);
    return this.#ctx.store.getStatuses(task.id, afterSequence);
  }

  /** Every status of a task from `afterSequence` on, live, ending with its terminal status. */
  async *watch(
    principal: Principal,
    taskRef: string,
    afterSequence = 0,
    signal?: AbortSignal,
  ): AsyncGenerator<TaskStatus> {
    const task = await this.getTask(principal, taskRef);
    const { store, bus, options } = this.#ctx;
    // Other processes' statuses come as hints that can be lost: read the store again now and then.
    const reread = store.capabilities.concurrentClaims ? options.poll_ms * 5 : undefined;
    yield* watchStatuses(store, bus, task.id, afterSequence, signal, reread);
  }

  /** Records decisions taken before the engine saw a message (rate limits, quotas). */
  recordAudit(records: readonly AuditRecord[]): Promise<void> {
    return this.#ctx.store.appendAudit(records);
  }

  /** The audit trail (admin). */
  queryAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    return this.#ctx.store.queryAudit(filter);
  }

  /** One step of resealing the stored values under the current data key (see TaskStore.resealStored). */
  resealStored(cursor: ResealCursor | null, limit: number): Promise<ResealStep> {
    return this.#ctx.store.resealStored(cursor, limit);
  }

  /** Resolves when the store answers a query and every other check passes (readiness); rejects otherwise. */
  async checkReady(): Promise<void> {
    if (this.#state !== "running") throw new Error(`the executor is ${this.#state}`);
    for (const check of this.#readinessChecks) await check();
    await this.#ctx.store.countByState();
  }

  /** Adds a readiness check (a broker connection); one that throws makes the process not ready. */
  addReadinessCheck(check: () => void | Promise<void>): void {
    this.#readinessChecks.push(check);
  }

  /** Adds an observer of every durable change. */
  observe(observer: EngineObserver): void {
    this.#ctx.observers.push(observer);
  }

  /** The principal's tasks (admins: all) per state. */
  countTasks(principal: Principal): Promise<Record<string, number>> {
    return this.#ctx.store.countByState(principal.admin ? undefined : principal.id);
  }

  /** Takes this process's turn at a duty one process of the cluster performs at a time (see SoleDuty). */
  soleDuty(name: string, retryMs: number): Promise<SoleDuty> {
    return this.#ctx.store.soleDuty(name, retryMs);
  }

  /** Tasks per state, and ready tasks per priority (for metrics). */
  async counts(): Promise<{ byState: Record<string, number>; readyByPriority: Record<string, number> }> {
    const [byState, readyByPriority] = await Promise.all([
      this.#ctx.store.countByState(),
      this.#ctx.store.queueDepth(),
    ]);
    return { byState, readyByPriority };
  }

  /** This node's resources; for a process that runs no tasks, the live workers'. */
  resources(): ResourceSnapshot[] {
    const { cluster, clock, resources } = this.#ctx;
    if (cluster === undefined) return [resources.snapshot()];
    return cluster
      .nodes(clock.now())
      .filter((n) => n.alive)
      .map((n) => n.resources);
  }

  /**
   * Every node of the cluster with its resources and last heartbeat: this one as it is now, and,
   * where processes share the store, the others as they last recorded themselves (dead after
   * three missed heartbeats).
   */
  async nodes(): Promise<ClusterNode[]> {
    const { store, clock, options, cluster } = this.#ctx;
    const now = clock.now();
    if (cluster !== undefined) return cluster.nodes(now);
    const here: ClusterNode = {
      resources: this.#ctx.resources.snapshot(),
      heartbeatAt: now,
      sentAt: now,
      alive: true,
      bootId: this.#ctx.bootId,
    };
    if (store.listNodes === undefined) return [here];
    const others = (await store.listNodes()).filter((n) => n.node !== this.node);
    const alive = (at: number) => at >= now - 3 * options.heartbeat_ms;
    return [
      here,
      ...others.map(({ heartbeatAt, node, capacity, allocated, free, running, waiting, bootId }) => ({
        resources: { node, capacity, allocated, free, running, waiting },
        heartbeatAt,
        sentAt: heartbeatAt,
        bootId: bootId ?? "",
        alive: alive(heartbeatAt),
      })),
    ];
  }
}
