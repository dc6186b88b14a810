import type { ReadyWork } from "../../domain/records.js";
import { InProcessWorkSignal } from "../memory/in-process-work-signal.js";

/**
 * The work signal of distributed mode's processes, as a maker of work: the work is in the store's
 * outbox (once written), and `ready` and `mayBeReady` wake the relay that hands it to the broker
 * now instead of at its next poll. Nothing is handed to this process's listeners directly: work
 * reaches a worker, this one included, only as the broker delivers it and the worker claims it
 * (a retry made due here would otherwise skip the claim, and stay with a worker that could not
 * fit it while another could).
 */
export class OutboxWorkSignal extends InProcessWorkSignal {
  override readonly goesThroughBroker = true;
  readonly #wake: () => void;

  constructor(wake: () => void, onError?: (error: unknown) => void) {
    super(onError);
    this.#wake = wake;
  }

  /**
   * Wakes the relay once the work is written: it may be announced before its transaction commits,
   * and a relay pass run before that would find nothing and leave the task to the next poll.
   */
  override ready(work: ReadyWork): void {
    work.written.then(this.#wake, () => {}); // none written: nothing to relay
  }

  override mayBeReady(): Promise<void> {
    this.#wake();
    return Promise.resolve();
  }
}
