import type { TaskRow } from "./api.js";
import { followEventStream } from "./event-stream.js";

export type FeedListener = (change: { kind: "tasks"; tasks: TaskRow[] } | { kind: "resync" }) => void;

/**
 * The one live connection of the page (`GET /v1/stream`), shared by every view: changed task rows
 * a few times a second, and `resync` when the server could not keep up and a view should reload.
 */
export class LiveFeed {
  readonly #listeners = new Set<FeedListener>();
  readonly #connectionListeners = new Set<(connected: boolean) => void>();
  readonly #controller = new AbortController();
  connected = false;

  constructor(token: string, onRefused: (status: number) => void) {
    void followEventStream(
      "/v1/stream",
      token,
      this.#controller.signal,
      {
        onEvent: (event) => {
          const change =
            event.event === "tasks"
              ? { kind: "tasks" as const, tasks: (JSON.parse(event.data) as { tasks: TaskRow[] }).tasks }
              : { kind: "resync" as const };
          for (const listener of this.#listeners) listener(change);
        },
        onConnection: (connected) => {
          const reconnected = connected && !this.connected;
          this.connected = connected;
          for (const listener of this.#connectionListeners) listener(connected);
          // Changes made while we were away were not streamed: views reload.
          if (reconnected) for (const listener of this.#listeners) listener({ kind: "resync" });
        },
        onRefused,
      },
      "endless",
    );
  }

  subscribe(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onConnection(listener: (connected: boolean) => void): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }

  close(): void {
    this.#controller.abort();
  }
}
