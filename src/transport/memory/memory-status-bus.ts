import type { TaskStatus } from "../../protocol/task-status.js";
import type { RoutedStatus, StatusBus, StatusListener, Unsubscribe } from "../status-bus.js";

/** Settled once, shared: publishing in process allocates no promise per message. */
const DONE = Promise.resolve();

/**
 * The in-process StatusBus: a listener hears each status during `publish`, and a listener that
 * throws never stops the others.
 */
export class MemoryStatusBus implements StatusBus {
  readonly reachesOthers = false;
  readonly #byTask = new Map<string, Set<StatusListener>>();
  readonly #all = new Set<StatusListener>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  publish(statuses: readonly RoutedStatus[]): Promise<void> {
    for (const { status } of statuses) {
      const taskId = status.header.task_id;
      const listeners = taskId === null ? undefined : this.#byTask.get(taskId);
      if (listeners) for (const listener of listeners) this.#call(listener, status);
      for (const listener of this.#all) this.#call(listener, status);
    }
    return DONE;
  }

  subscribe(taskId: string, listener: StatusListener): Promise<Unsubscribe> {
    let set = this.#byTask.get(taskId);
    if (set === undefined) {
      set = new Set();
      this.#byTask.set(taskId, set);
    }
    const listeners = set;
    listeners.add(listener);
    return Promise.resolve(() => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#byTask.get(taskId) === listeners) this.#byTask.delete(taskId);
    });
  }

  subscribeAll(listener: StatusListener): Promise<Unsubscribe> {
    this.#all.add(listener);
    return Promise.resolve(() => {
      this.#all.delete(listener);
    });
  }

  #call(listener: StatusListener, status: TaskStatus): void {
    try {
      listener(status);
    } catch (error) {
      this.#onListenerError(error);
    }
  }
}
