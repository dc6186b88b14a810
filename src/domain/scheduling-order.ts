/** What the scheduler orders tasks by (SPEC §1). */
export interface SchedulingKey {
  priority: number;
  deadline: number | null;
  submitSeq: number;
}

/**
 * Negative when `a` runs before `b`: higher priority first, then the earlier deadline (a task
 * with none after those with one), then submission order. The same order as `select_ready.sql`.
 */
export function compareSchedulingKeys(a: SchedulingKey, b: SchedulingKey): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const da = a.deadline ?? Number.MAX_SAFE_INTEGER;
  const db = b.deadline ?? Number.MAX_SAFE_INTEGER;
  if (da !== db) return da - db;
  return a.submitSeq - b.submitSeq;
}
