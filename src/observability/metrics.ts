import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EngineObserver } from "../engine/engine-observer.js";
import type { TaskExecutor } from "../engine/task-executor.js";
import type { ErrorCode } from "../protocol/error-codes.js";
import { isTerminal, TASK_STATES } from "../protocol/states.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type { ObservedStatus, TaskRecord } from "../domain/records.js";
import type { SoleDuty } from "../store/sole-duty.js";
import { VERSION } from "../version.js";

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

/** A readiness check that takes longer counts as not ready (a scrape must not wait for a store away). */
const READY_WITHIN_MS = 2_000;

/** Attempts timed at once, at most: more than run at once on any node. */
const MAX_TIMED_ATTEMPTS = 100_000;

/** The events that end an attempt, and the outcome each gives it. */
const ATTEMPT_OUTCOMES: Readonly<Record<string, string>> = {
  task_completed: "completed",
  task_failed: "failed",
  retry_scheduled: "retried",
  task_cancelled: "cancelled",
};

const UNLINTED_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** The duty of exporting the cluster-wide gauges (see ExecutorMetrics). */
export const CLUSTER_METRICS_DUTY = "cluster_metrics";

/**
 * The Prometheus metrics of SPEC §9, on a registry of their own, so that summing a series over
 * every process of a cluster counts each thing once:
 * - counters and histograms count what this process did (fed by every durable change it made);
 * - `taskexec_resource_usage_ratio` is this process's own node (a process that runs no task,
 *   `taskexec api`, has none);
 * - the cluster-wide gauges, `taskexec_tasks`, `taskexec_queue_depth` and `taskexec_nodes` (read
 *   from the store at scrape time), come from one process at a time: the holder of the `cluster_metrics` duty
 *   (`taskexec_cluster_metrics_exporter` is 1 there, 0 elsewhere). When it dies, another takes
 *   the duty within `heartbeat_ms`.
 * With them, Node's process and runtime metrics (memory, CPU, event-loop lag, GC) and
 * `taskexec_build_info`.
 */
export class ExecutorMetrics implements EngineObserver {
  readonly registry = new Registry();
  #duty: SoleDuty | undefined;
  /** When each attempt running here started (epoch ms), by task id. */
  readonly #attemptStarts = new Map<string, number>();
  readonly #execution = new Histogram({
    name: "taskexec_task_execution_seconds",
    help: "One attempt's run, from its start to its end, by type and outcome (completed, failed, retried, cancelled).",
    labelNames: ["type", "outcome"],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly #wait = new Histogram({
    name: "taskexec_task_wait_seconds",
    help: "Time from submission to the first start.",
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly #submitted = new Counter({
    name: "taskexec_tasks_submitted_total",
    help: "Tasks accepted.",
    registers: [this.registry],
  });
  readonly #awaitingWorker = new Counter({
    name: "taskexec_tasks_awaiting_worker_total",
    help: "Tasks accepted while no live worker could run them (they wait in the queue for one), by type.",
    labelNames: ["type"],
    registers: [this.registry],
  });
  readonly #finished = new Counter({
    name: "taskexec_tasks_finished_total",
    help: "Tasks that reached a terminal state, by type and outcome.",
    labelNames: ["type", "outcome"],
    registers: [this.registry],
  });
  readonly #errors = new Counter({
    name: "taskexec_errors_total",
    help: "Errors by protocol code: failed attempts, rejections.",
    labelNames: ["code"],
    registers: [this.registry],
  });
  readonly #leasesLost = new Counter({
    name: "taskexec_leases_lost_total",
    help: "Attempts whose executor was lost (it died, stopped, or its lease lapsed), counted by the process that recovered them.",
    registers: [this.registry],
  });
  readonly #reconnects = new Counter({
    name: "taskexec_reconnects_total",
    help: "Connections of this process lost and being made again, to the database or the broker.",
    labelNames: ["to"],
    registers: [this.registry],
  });
  readonly #deadLetters = new Counter({
    name: "taskexec_dead_letters_total",
    help: "Messages this process put in taskexec.dead, by where they came from and why (a refusal's code; `refused` for a forged, unsigned or malformed message).",
    labelNames: ["from", "reason"],
    registers: [this.registry],
  });
  readonly #refused = new Counter({
    name: "taskexec_broker_messages_refused_total",
    help: "Messages heard on the broker and refused (forged, unsigned, wrong role, replayed, malformed): dead-lettered, by where they came from (an exchange, or taskexec.tasks).",
    labelNames: ["from"],
    registers: [this.registry],
  });

  /** Takes its turn at the cluster-wide gauges (tried again every `retryMs` while another holds them). */
  constructor(executor: TaskExecutor, retryMs: number) {
    const exporting = () => this.#duty?.mine === true;
    // One reading of the store per scrape, for both cluster-wide gauges.
    let counting: Promise<Awaited<ReturnType<TaskExecutor["counts"]>>> | undefined;
    const counts = () =>
      (counting ??= executor.counts().finally(() => setImmediate(() => (counting = undefined))));
    new Gauge({
      name: "taskexec_tasks",
      help: "Tasks in each state, cluster-wide (exported by the process that holds the cluster_metrics duty).",
      labelNames: ["state"],
      registers: [this.registry],
      async collect() {
        this.reset();
        if (!exporting()) return;
        // The store away: no sample (the scrape goes on, and taskexec_ready says why).
        const read = await counts().catch(() => undefined);
        if (read === undefined) return;
        for (const state of TASK_STATES) this.set({ state }, read.byState[state] ?? 0);
      },
    });
    new Gauge({
      name: "taskexec_queue_depth",
      help: "Ready tasks waiting to run, by priority, cluster-wide (exported by the process that holds the cluster_metrics duty).",
      labelNames: ["priority"],
      registers: [this.registry],
      async collect() {
        this.reset();
        if (!exporting()) return;
        const read = await counts().catch(() => undefined);
        if (read === undefined) return;
        for (let p = 0; p <= 9; p++) this.set({ priority: String(p) }, read.readyByPriority[String(p)] ?? 0);
      },
    });
    new Gauge({
      name: "taskexec_nodes",
      help: "Nodes of the cluster by liveness (dead: three heartbeats missed), cluster-wide (exported by the process that holds the cluster_metrics duty).",
      labelNames: ["state"],
      registers: [this.registry],
      async collect() {
        this.reset();
        if (!exporting()) return;
        const nodes = await executor.nodes().catch(() => undefined);
        if (nodes === undefined) return;
        this.set({ state: "alive" }, nodes.filter((n) => n.alive).length);
        this.set({ state: "dead" }, nodes.filter((n) => !n.alive).length);
      },
    });
    new Gauge({
      name: "taskexec_ready",
      help: "1 when this process's store (and broker) answer, as /readyz says; 0 otherwise.",
      registers: [this.registry],
      async collect() {
        const answered = await Promise.race([
          executor.checkReady().then(
            () => true,
            () => false,
          ),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), READY_WITHIN_MS).unref()),
        ]);
        this.set(answered ? 1 : 0);
      },
    });
    new Gauge({
      name: "taskexec_cluster_metrics_exporter",
      help: "1 in the process that exports the cluster-wide gauges (taskexec_tasks, taskexec_queue_depth), 0 in the others.",
      registers: [this.registry],
      collect() {
        this.set(exporting() ? 1 : 0);
      },
    });
    new Gauge({
      name: "taskexec_resource_usage_ratio",
      help: "Allocated over capacity of this process's node, per resource kind (none from a process that runs no tasks).",
      labelNames: ["node", "resource"],
      registers: [this.registry],
      collect() {
        this.reset();
        if (executor.role === "admission") return;
        for (const snapshot of executor.resources()) {
          for (const [resource, capacity] of Object.entries(snapshot.capacity)) {
            const ratio = capacity > 0 ? (snapshot.allocated[resource] ?? 0) / capacity : 0;
            this.set({ node: snapshot.node, resource }, ratio);
          }
        }
      },
    });
    new Gauge({
      name: "taskexec_build_info",
      help: "Always 1: the taskexec and Node.js versions of this process.",
      labelNames: ["version", "node_version"],
      registers: [this.registry],
    }).set({ version: VERSION, node_version: process.version }, 1);
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters, which `promtool check metrics` refuses; the same counts are in
    // nodejs_active_handles, nodejs_active_requests and nodejs_active_resources, by type.
    for (const name of UNLINTED_DEFAULTS) this.registry.removeSingleMetric(name);
    executor.observe(this);
    void executor.soleDuty(CLUSTER_METRICS_DUTY, retryMs).then(
      (duty) => (this.#duty = duty),
      () => {}, // not given (the store closing): this process does not export them
    );
  }

  onStatus(task: TaskRecord, status: TaskStatus): void {
    const event = status.body.details?.event;
    if (event === "task_accepted") {
      this.#submitted.inc();
      if (status.body.details?.awaiting_worker === true) this.#awaitingWorker.inc({ type: task.type });
    }
    if (event === "execution_started" && status.body.details?.attempt === 1) {
      this.#wait.observe((Date.parse(status.header.timestamp) - task.createdAt) / 1000);
    }
    const code = status.body.details?.error?.code;
    if (code !== undefined && (event === "task_failed" || event === "retry_scheduled")) {
      this.#errors.inc({ code });
      if (code === "executor_lost") this.#leasesLost.inc();
    }
    this.#timeAttempt(task, status);
    if (isTerminal(task.state)) this.#finished.inc({ type: task.type, outcome: task.state });
  }

  /** An attempt's run: from its `execution_started` to the status that ends it, both made here. */
  #timeAttempt(task: TaskRecord, status: TaskStatus): void {
    const event = status.body.details?.event;
    if (event === "execution_started") {
      // Bounded: a task whose end this process never sees (recovered elsewhere) is forgotten.
      if (this.#attemptStarts.size >= MAX_TIMED_ATTEMPTS)
        this.#attemptStarts.delete(this.#attemptStarts.keys().next().value!);
      this.#attemptStarts.set(task.id, Date.parse(status.header.timestamp));
      return;
    }
    const outcome = event === undefined ? undefined : ATTEMPT_OUTCOMES[event];
    if (outcome === undefined) return;
    const started = this.#attemptStarts.get(task.id);
    if (started === undefined) return;
    this.#attemptStarts.delete(task.id);
    const took = Date.parse(status.header.timestamp) - started;
    this.#execution.observe({ type: task.type, outcome }, Math.max(0, took) / 1000);
  }

  /** Another process ended a task this one ran (a cancel made there): its attempt is not timed. */
  onOtherStatus(observed: ObservedStatus): void {
    if (isTerminal(observed.status.body.status) && observed.status.header.task_id !== null)
      this.#attemptStarts.delete(observed.status.header.task_id);
  }

  /** A message heard on the broker (from an exchange, or taskexec.tasks) was refused and dead-lettered. */
  messageRefused(from: string): void {
    this.#refused.inc({ from });
    this.#deadLetters.inc({ from, reason: "refused" });
  }

  /** A message taken from `from` was dead-lettered for `reason` (a refusal's code). */
  deadLettered(from: string, reason: string): void {
    this.#deadLetters.inc({ from, reason });
  }

  onReconnecting(to: "database" | "broker"): void {
    this.#reconnects.inc({ to });
  }

  onRejected(code: ErrorCode): void {
    this.#errors.inc({ code });
  }
}
