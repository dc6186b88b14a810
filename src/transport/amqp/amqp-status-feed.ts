import type { ObservedStatus } from "../../domain/records.js";
import type { FeedOptions, OthersListener, StatusFeed } from "../status-feed.js";
import type { StopListening } from "../work-signal.js";
import type { AmqpStatusBus } from "./amqp-status-bus.js";

/**
 * The StatusFeed of a process that hears the others through `taskexec.status` (the api in
 * distributed mode): what the bus's queue brings from other processes, with the facts their
 * publishers put in the headers, so that nothing is read from the store for it. Statuses come one
 * message at a time; each task's in the order they were published.
 */
export class AmqpStatusFeed implements StatusFeed {
  readonly #bus: AmqpStatusBus;
  readonly #stops = new Set<() => void>();

  constructor(bus: AmqpStatusBus) {
    this.#bus = bus;
  }

  async listen(listener: OthersListener, options: FeedOptions = {}): Promise<StopListening> {
    const { only } = options;
    const stop = await this.#bus.listenOthers((observed: ObservedStatus) => {
      if (only === undefined || only(observed.status.header.task_id!)) listener([observed]);
    });
    this.#stops.add(stop);
    return () => {
      this.#stops.delete(stop);
      stop();
      return Promise.resolve();
    };
  }

  close(): Promise<void> {
    for (const stop of this.#stops) stop();
    this.#stops.clear();
    return Promise.resolve();
  }
}
