import type { TaskStatus } from "../../protocol/task-status.js";
import type { StatusBus, StatusListener } from "../status-bus.js";

/** The in-process StatusBus of embedded mode. A listener that throws never stops the others. */
export class MemoryStatusBus implements StatusBus {
  readonly #byTask = new Map<string, Set<StatusListener>>();
  readonly #all = new Set<StatusListener>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  publish(statuses: readonly TaskStatus[]): void {
    for (const status of statuses) {
      const taskId = status.header.task_id;
      const listeners = taskId === null ? undefined : this.#byTask.get(taskId);
      if (listeners) for (const listener of listeners) this.#call(listener, status);
      for (const listener of this.#all) this.#call(listener, status);
    }
  }

  subscribe(taskId: string, listener: StatusListener): () => void {
    if (taskId === "*") {
      this.#all.add(listener);
      return () => this.#all.delete(listener);
    }
    let set = this.#byTask.get(taskId);
    if (set === undefined) {
      set = new Set();
      this.#byTask.set(taskId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#byTask.delete(taskId);
    };
  }

  #call(listener: StatusListener, status: TaskStatus): void {
    try {
      listener(status);
    } catch (error) {
      this.#onListenerError(error);
    }
  }
}
