import { closeSync, fdatasync, openSync } from "node:fs";

/**
 * Makes committed WAL frames durable without holding the event loop: `fdatasync` of the WAL
 * file on libuv's thread pool, shared by every commit made before it started.
 *
 * The connection runs with `synchronous = NORMAL`, so SQLite's own commits write the WAL but do
 * not sync it (a commit then survives a crash of this process, the OS holds it, but not a power
 * loss). A commit is as durable as under `synchronous = FULL` once an `fdatasync` of the WAL that
 * started after it has returned: `FULL` does exactly that sync, inline. SQLite still syncs the
 * WAL and the database itself around checkpoints, so frames are never reset before they are in
 * the database file.
 *
 * The WAL file keeps its inode while the store's connection is open (SQLite removes it only when
 * the last connection closes), so one descriptor serves for the store's lifetime.
 */
export class WalSync {
  readonly #path: string;
  #fd: number | undefined;
  /** The sync running now, if any. */
  #running: Promise<void> | undefined;
  /** The sync that starts when the running one ends: it covers every commit made meanwhile. */
  #next: Promise<void> | undefined;

  constructor(walPath: string) {
    this.#path = walPath;
  }

  /** Resolves once everything written to the WAL before this call is on disk. */
  sync(): Promise<void> {
    if (this.#running === undefined) return (this.#running = this.#start());
    // A sync already running may have started before the caller's commit: wait for the next.
    this.#next ??= this.#running.then(
      () => this.#promoteNext(),
      () => this.#promoteNext(),
    );
    return this.#next;
  }

  /** Waits for every sync asked for so far, then closes the descriptor. */
  async close(): Promise<void> {
    await Promise.allSettled([this.#running, this.#next]);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #promoteNext(): Promise<void> {
    this.#next = undefined;
    return (this.#running = this.#start());
  }

  #start(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      // Opened on first use: the WAL file exists once the first transaction has been written.
      this.#fd ??= openSync(this.#path, "r+");
      fdatasync(this.#fd, (error) => (error ? reject(error) : resolve()));
    });
    const settle = () => {
      if (this.#running === done) this.#running = undefined;
    };
    done.then(settle, settle);
    return done;
  }
}
