import { isTerminal } from "../protocol/states.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type { TaskStore } from "../store/task-store.js";
import type { StatusBus, Unsubscribe } from "../transport/status-bus.js";
import type { Logger } from "../observability/logger.js";
import type { ClusterNode, ClusterPlacement } from "./cluster-placement.js";
import { tellEndsAgain } from "./tell-ends-again.js";

/**
 * How long before a dead worker's last beat its unannounced ends are looked for. Generous: under
 * load a worker's statuses can wait well over ten seconds between commit and publish (seen in the
 * 10,000-task SIGKILL test), and a death reads only the ends not heard here, keeping its own.
 */
const BEFORE_LAST_BEAT_MS = 60_000;
/** How long an end heard here is remembered (between one and two of these). */
const REMEMBER_MS = 120_000;

export interface DeadWorkerEndsOptions {
  store: TaskStore;
  bus: StatusBus;
  cluster: ClusterPlacement;
  heartbeatMs: number;
  log: Logger;
}

/**
 * The api's guard for "every status at least once" over the broker (distributed mode). A worker
 * publishes a status once it is committed; one killed in between leaves in the database a status
 * that no one announced. Its running tasks are recovered with new statuses, but an end (a task
 * it completed or failed) would never be told: a client waiting on the broker would wait forever.
 * So the api remembers the ends it heard lately, and when a worker it saw alive stops beating, it
 * reads the tasks that ended from a while before that worker's last beat and publishes again the
 * end of each it did not hear (one a live worker published and the api has not heard yet is told
 * twice, and dropped by `sequence` as any redelivery is).
 */
export class DeadWorkerEnds {
  readonly #options: DeadWorkerEndsOptions;
  readonly #startedAt = Date.now();
  /** Ends heard lately, in two generations (the older is dropped as the newer takes over). */
  #heard = new Set<string>();
  #heardBefore = new Set<string>();
  #generationAt = Date.now();
  /**
   * Incarnations (node and boot id) heard since this guard started, with their last beat and
   * until when their ends were told again: one that misses its beats, or whose node comes back with another boot id
   * (a restart under a node id set by hand), is dead, and its ends since shortly before its last
   * beat are told again.
   */
  readonly #seen = new Map<string, { node: string; lastBeat: number; toldThrough: number }>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: Unsubscribe = () => {};
  #checking: Promise<void> = Promise.resolve();

  private constructor(options: DeadWorkerEndsOptions) {
    this.#options = options;
  }

  static async start(options: DeadWorkerEndsOptions): Promise<DeadWorkerEnds> {
    const guard = new DeadWorkerEnds(options);
    guard.#unsubscribe = await options.bus.subscribeAll((status) => guard.#hear(status));
    guard.#timer = setInterval(() => {
      guard.#checking = guard.#checking.then(() => guard.#check(Date.now()));
    }, options.heartbeatMs);
    guard.#timer.unref();
    return guard;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#unsubscribe();
    await this.#checking;
  }

  #hear(status: TaskStatus): void {
    if (status.header.task_id !== null && isTerminal(status.body.status))
      this.#heard.add(status.header.task_id);
  }

  #heardOf(taskId: string): boolean {
    return this.#heard.has(taskId) || this.#heardBefore.has(taskId);
  }

  async #check(now: number): Promise<void> {
    if (now - this.#generationAt >= REMEMBER_MS) {
      this.#heardBefore = this.#heard;
      this.#heard = new Set();
      this.#generationAt = now;
    }
    const listed = new Map<string, ClusterNode>();
    for (const node of this.#options.cluster.nodes(now))
      listed.set(`${node.resources.node} ${node.bootId}`, node);
    for (const [key, node] of listed) {
      // Its last beat: when it said it beat, or when that arrived here if earlier (a clock ahead).
      // A beat that waited in a queue arrives late; one claiming a past time only widens what is
      // told of this node's own tasks.
      const lastBeat = Math.min(node.heartbeatAt, node.sentAt);
      const seen = this.#seen.get(key);
      if (seen !== undefined) seen.lastBeat = Math.max(seen.lastBeat, lastBeat);
      // Heard since this guard started (whether or not a check saw it alive: under load checks
      // lag, and a worker may live and die between two).
      else if (node.heartbeatAt >= this.#startedAt)
        this.#seen.set(key, { node: node.resources.node, lastBeat, toldThrough: -Infinity });
    }
    for (const [key, seen] of [...this.#seen]) {
      const node = listed.get(key);
      if (node?.alive === true) continue;
      // Dead (or replaced by another run of its process, or forgotten): what it may have ended
      // since shortly before its last beat is told, unless that was told already (a worker seen
      // dead, then beating again, then dead before a check saw it alive is told again too).
      if (node === undefined) this.#seen.delete(key);
      if (seen.toldThrough >= seen.lastBeat) continue;
      const from = Math.max(this.#startedAt, seen.lastBeat - BEFORE_LAST_BEAT_MS);
      try {
        const told = await this.#tellAgain(from, now, seen.node);
        seen.toldThrough = now;
        if (told > 0)
          this.#options.log.warn(
            { node: seen.node, told },
            "a worker stopped beating: told again the ends of tasks it may not have announced",
          );
      } catch (error) {
        this.#seen.set(key, seen); // the next check tries again
        this.#options.log.warn({ err: error, node: seen.node }, "could not tell again a dead worker's ends");
      }
    }
  }

  /** Publishes the ends `node` recorded in [from, until) not heard here; resolves to how many. */
  async #tellAgain(from: number, until: number, node: string): Promise<number> {
    const told = await tellEndsAgain(this.#options, from, until, (taskId) => this.#heardOf(taskId), node);
    for (const taskId of told) this.#heard.add(taskId);
    return told.length;
  }
}
