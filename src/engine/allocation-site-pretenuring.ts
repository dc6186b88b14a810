import v8 from "node:v8";

/**
 * Turns V8's allocation-site pretenuring off for this process (every thread: V8's flags are
 * process-wide), unless `keep` is true. Setting this flag after start is safe: V8 consults it
 * when it weighs each collection's pretenuring feedback, and only then decides that a site's
 * later allocations go to the old generation. It is set before the executor runs any task, so
 * none of our sites has been tenured yet.
 *
 * Why: a bulk submission keeps a thousand tasks' records, plans and status drafts alive until
 * their commit is on disk, which outlives a young-generation collection or two. V8 learns from
 * that to allocate at those sites straight into the old generation, and from then on every task's
 * short-lived objects fill it: ~10 KB per task survived a young collection at 2,000 tasks/s, the
 * young collections took 3–5 ms each and full ones came every few seconds. Measured in fresh
 * processes (bench/measure-one.ts): p99 submit → start at 2,000/s 6.2–7.4 ms with pretenuring,
 * 3.7–4.8 ms without (three pairs); CPU per no-op task in bulk 132–134 µs with, 119–122 µs
 * without (two pairs).
 */
export function applyAllocationSitePretenuring(keep: boolean): void {
  if (!keep) v8.setFlagsFromString("--no-allocation-site-pretenuring");
}
