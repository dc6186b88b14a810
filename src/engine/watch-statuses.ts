import { isTerminal } from "../protocol/states.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type { TaskStore } from "../store/task-store.js";
import type { StatusBus } from "../transport/status-bus.js";

/**
 * A task's statuses after `afterSequence`, history first and then live, each exactly once and
 * in sequence order, ending after the terminal one. It subscribes before reading history, so
 * nothing published in between is missed, and it fills any gap from the store. Where the bus
 * may lose a status (news from other processes is a hint), `rereadMs` reads the store again
 * after that long without news.
 */
export async function* watchStatuses(
  store: TaskStore,
  bus: StatusBus,
  taskId: string,
  afterSequence: number,
  signal?: AbortSignal,
  rereadMs?: number,
): AsyncGenerator<TaskStatus> {
  const live: TaskStatus[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = await bus.subscribe(taskId, (status) => {
    live.push(status);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);
  try {
    let last = afterSequence;
    const emit = function* (statuses: readonly TaskStatus[]) {
      for (const status of statuses) {
        if (status.header.sequence <= last) continue;
        last = status.header.sequence;
        yield status;
      }
    };
    let history = await store.getStatuses(taskId, last);
    for (;;) {
      for (const status of emit(history)) {
        yield status;
        if (isTerminal(status.body.status)) return;
      }
      if (signal?.aborted) return;
      let timer: NodeJS.Timeout | undefined;
      if (live.length === 0)
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (rereadMs !== undefined) timer = setTimeout(resolve, rereadMs);
        });
      clearTimeout(timer);
      wake = undefined;
      if (signal?.aborted) return;
      if (live.length === 0) {
        history = await store.getStatuses(taskId, last); // no news for rereadMs
        continue;
      }
      const next = live.splice(0);
      // A gap anywhere (published before we subscribed, lost, or out of order): read from the store.
      history = follows(next, last) ? next : await store.getStatuses(taskId, last);
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener("abort", onAbort);
  }
}

/** Whether `statuses`, repeats and old ones aside, run on from `after` without a gap. */
function follows(statuses: readonly TaskStatus[], after: number): boolean {
  let expected = after + 1;
  for (const { header } of statuses) {
    if (header.sequence < expected) continue;
    if (header.sequence !== expected) return false;
    expected += 1;
  }
  return true;
}
