/**
 * A duty that one of the processes sharing a store performs at a time: exporting the cluster-wide
 * metrics (so that Prometheus's sum of every process's series counts each task once), running
 * the maintenance. A holder keeps it for as long as it lives; the others wait their turn and
 * take it over when it goes.
 */
export interface SoleDuty {
  /** Whether this process holds the duty now. */
  readonly mine: boolean;
  /** Gives it up (another holder takes it at its next try). */
  release(): Promise<void>;
}

/**
 * The duties of a store only this process uses (SQLite): the first to ask holds each duty until
 * it releases it, and the next asker gets it then, at once.
 */
export class LocalDuties {
  readonly #queues = new Map<string, LocalDuty[]>();

  take(name: string): SoleDuty {
    const queue = this.#queues.get(name) ?? [];
    this.#queues.set(name, queue);
    const duty = new LocalDuty(() => {
      const at = queue.indexOf(duty);
      if (at >= 0) queue.splice(at, 1);
    }, queue);
    queue.push(duty);
    return duty;
  }
}

class LocalDuty implements SoleDuty {
  constructor(
    private readonly leave: () => void,
    private readonly queue: readonly LocalDuty[],
  ) {}

  get mine(): boolean {
    return this.queue[0] === this;
  }

  release(): Promise<void> {
    this.leave();
    return Promise.resolve();
  }
}
