import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EngineObserver } from "../engine/engine-observer.js";
import type { TaskExecutor } from "../engine/task-executor.js";
import type { ErrorCode } from "../protocol/error-codes.js";
import { isTerminal, TASK_STATES } from "../protocol/states.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type { TaskRecord } from "../domain/records.js";

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

/**
 * The Prometheus metrics of SPEC §9, on a registry of their own. Counters and histograms are fed
 * by every durable change; the gauges are read from the store and resource manager at scrape time.
 */
export class ExecutorMetrics implements EngineObserver {
  readonly registry = new Registry();
  readonly #execution = new Histogram({
    name: "taskexec_task_execution_seconds",
    help: "Time from a task's first start to its end, by type and outcome.",
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
  readonly #refused = new Counter({
    name: "taskexec_broker_messages_refused_total",
    help: "Messages heard on the broker and refused (forged, unsigned, wrong role, replayed, malformed): dead-lettered, by where they came from (an exchange, or taskexec.tasks).",
    labelNames: ["from"],
    registers: [this.registry],
  });

  constructor(executor: TaskExecutor) {
    new Gauge({
      name: "taskexec_tasks",
      help: "Tasks in each state.",
      labelNames: ["state"],
      registers: [this.registry],
      async collect() {
        const { byState } = await executor.counts();
        for (const state of TASK_STATES) this.set({ state }, byState[state] ?? 0);
      },
    });
    new Gauge({
      name: "taskexec_queue_depth",
      help: "Ready tasks waiting to run, by priority.",
      labelNames: ["priority"],
      registers: [this.registry],
      async collect() {
        const { readyByPriority } = await executor.counts();
        for (let p = 0; p <= 9; p++) this.set({ priority: String(p) }, readyByPriority[String(p)] ?? 0);
      },
    });
    new Gauge({
      name: "taskexec_resource_usage_ratio",
      help: "Allocated over capacity, per node and resource kind.",
      labelNames: ["node", "resource"],
      registers: [this.registry],
      collect() {
        for (const snapshot of executor.resources()) {
          for (const [resource, capacity] of Object.entries(snapshot.capacity)) {
            const ratio = capacity > 0 ? (snapshot.allocated[resource] ?? 0) / capacity : 0;
            this.set({ node: snapshot.node, resource }, ratio);
          }
        }
      },
    });
    executor.observe(this);
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
    if (code !== undefined && (event === "task_failed" || event === "retry_scheduled"))
      this.#errors.inc({ code });
    if (isTerminal(task.state)) {
      this.#finished.inc({ type: task.type, outcome: task.state });
      if (task.startedAt !== null && task.finishedAt !== null) {
        this.#execution.observe(
          { type: task.type, outcome: task.state },
          (task.finishedAt - task.startedAt) / 1000,
        );
      }
    }
  }

  /** A message heard on the broker (from an exchange, or taskexec.tasks) was refused and dead-lettered. */
  messageRefused(from: string): void {
    this.#refused.inc({ from });
  }

  onRejected(code: ErrorCode): void {
    this.#errors.inc({ code });
  }
}
