import type { ReadyWork } from "../../domain/records.js";
import type { StopListening, WorkListener, WorkSignal } from "../work-signal.js";

/** Delivers work signals within one process, by calling each listener (embedded mode). */
export class InProcessWorkSignal implements WorkSignal {
  readonly reachesOthers: boolean = false;
  readonly goesThroughBroker: boolean = false;
  readonly handsOverClaimed: boolean = false;
  readonly #listeners = new Set<WorkListener>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void = () => {}) {
    this.#onError = onError;
  }

  ready(work: ReadyWork): void {
    this.heardWork(work);
  }

  /** How many listeners there are. */
  protected get listeners(): number {
    return this.#listeners.size;
  }

  /** Hands ready work to this process's listeners (a backend got it for them). */
  protected heardWork(work: ReadyWork): void {
    for (const listener of this.#listeners) this.#call(() => listener.ready(work));
  }

  mayBeReady(): Promise<void> {
    this.heard();
    return Promise.resolve();
  }

  /** Tells this process's listeners that work may be ready (a backend heard of it elsewhere). */
  protected heard(): void {
    for (const listener of this.#listeners) this.#call(() => listener.mayBeReady());
  }

  /** Ready work it handed over is not claimed: nothing to settle. */
  taken(_taskIds: readonly string[]): void {}

  listen(listener: WorkListener): Promise<StopListening> {
    this.#listeners.add(listener);
    return Promise.resolve(() => {
      this.#listeners.delete(listener);
      return Promise.resolve();
    });
  }

  close(): Promise<void> {
    this.#listeners.clear();
    return Promise.resolve();
  }

  #call(deliver: () => void): void {
    try {
      deliver();
    } catch (error) {
      this.#onError(error);
    }
  }
}
