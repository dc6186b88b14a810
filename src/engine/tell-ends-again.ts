import type { TaskStore } from "../store/task-store.js";
import type { StatusBus } from "../transport/status-bus.js";

/** Ends read from the store at once. */
const PAGE = 2_000;

/**
 * Publishes again, from the store, the end of every task that ended in [from, until), except
 * those `skip` names; resolves to the tasks whose end it told. What distributed mode does when an
 * end may have been committed and never published (a worker killed in between, statuses dropped
 * while the broker was away): an end told twice is dropped by `sequence`, as any redelivery is,
 * while an end never told leaves a client on the broker waiting forever.
 */
export async function tellEndsAgain(
  parts: { store: TaskStore; bus: StatusBus },
  from: number,
  until: number,
  skip: (taskId: string) => boolean = () => false,
  /** Only the ends this node recorded (a dead worker's: never the whole cluster's for one death). */
  node?: string,
): Promise<string[]> {
  const { store, bus } = parts;
  const told = new Set<string>();
  for (let since = from; ;) {
    const ended = await store.endedBetween!(since, until, PAGE);
    const untold = ended.filter((e) => !told.has(e.taskId) && !skip(e.taskId));
    if (untold.length > 0) {
      const observed = (
        await store.observeStatuses!(untold.map((e) => [e.taskId, e.sequence] as const))
      ).filter((o) => node === undefined || o.status.body.details?.node === node);
      await bus.publish(
        observed.map(({ status, submitter, type, createdAt, startedAt }) => ({
          submitter,
          status,
          task: { type, createdAt, startedAt },
        })),
      );
      for (const o of observed) told.add(o.status.header.task_id!);
    }
    if (ended.length < PAGE) return [...told];
    // The next page starts at the last end read (ends in that same millisecond are read again,
    // and skipped as told).
    since = ended[ended.length - 1]!.endedAt;
    if (ended.every((e) => e.endedAt === since)) return [...told]; // a millisecond fuller than a page
  }
}
