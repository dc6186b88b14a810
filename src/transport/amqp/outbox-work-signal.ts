import type { ReadyWork } from "../../domain/records.js";
import { InProcessWorkSignal } from "../memory/in-process-work-signal.js";

/**
 * The work signal of a process that makes work ready and runs none (`taskexec api`): the work is
 * in the store's outbox already, and `ready` and `mayBeReady` wake the relay that hands it to the
 * broker now instead of at its next poll.
 */
export class OutboxWorkSignal extends InProcessWorkSignal {
  readonly #wake: () => void;

  constructor(wake: () => void, onError?: (error: unknown) => void) {
    super(onError);
    this.#wake = wake;
  }

  override ready(work: ReadyWork): void {
    super.ready(work);
    this.#wake();
  }

  override async mayBeReady(): Promise<void> {
    await super.mayBeReady();
    this.#wake();
  }
}
