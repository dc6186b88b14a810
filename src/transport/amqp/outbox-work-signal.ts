import type { ReadyWork } from "../../domain/records.js";
import { InProcessWorkSignal } from "../memory/in-process-work-signal.js";

/**
 * The work signal of a process that makes work ready and runs none (`taskexec api`): the work is
 * in the store's outbox (once written), and `ready` and `mayBeReady` wake the relay that hands it to the
 * broker now instead of at its next poll.
 */
export class OutboxWorkSignal extends InProcessWorkSignal {
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
    super.ready(work);
    work.written.then(this.#wake, () => {}); // none written: nothing to relay
  }

  override async mayBeReady(): Promise<void> {
    await super.mayBeReady();
    this.#wake();
  }
}
