import type { SharedAllowance } from "./submission-guard.js";

interface Waiter {
  wanted: number;
  /** When it asked: a batch is dated by its latest. */
  now: number;
  resolve: (answer: { granted: number; waitMs: number }) => void;
  reject: (error: unknown) => void;
}

/**
 * The shared rate count (one statement on the store's bucket per take) with the takes of one
 * principal coalesced: while a take is in flight, the ones that come meanwhile wait and go
 * together in the next, which asks for their sum and hands the granted tokens out in the order
 * they came. Submitted one by one from 64 connections, a principal's submissions then cost the
 * store a statement per batch instead of one each; the count is the same.
 */
export function coalescedAllowance(take: SharedAllowance): SharedAllowance {
  /** Per principal: the takes waiting for the one in flight to end (absent: none in flight). */
  const queued = new Map<string, Waiter[]>();

  const run = (principal: string, batch: Waiter[], perMinute: number): void => {
    const wanted = batch.reduce((sum, w) => sum + w.wanted, 0);
    // Dated by its latest take: one that waited is not counted back in time.
    const now = batch.reduce((latest, w) => Math.max(latest, w.now), 0);
    void take(principal, wanted, perMinute, now)
      .then(
        ({ granted, waitMs }) => {
          let left = granted;
          for (const w of batch) {
            const mine = Math.min(left, w.wanted);
            left -= mine;
            w.resolve({ granted: mine, waitMs: mine >= w.wanted ? 0 : waitMs });
          }
        },
        (error: unknown) => {
          for (const w of batch) w.reject(error);
        },
      )
      .finally(() => {
        const next = queued.get(principal) ?? [];
        if (next.length === 0) queued.delete(principal);
        else {
          queued.set(principal, []);
          run(principal, next, perMinute);
        }
      });
  };

  return (principal, wanted, perMinute, now) =>
    new Promise((resolve, reject) => {
      const waiter = { wanted, now, resolve, reject };
      const waiting = queued.get(principal);
      if (waiting !== undefined) {
        waiting.push(waiter);
        return;
      }
      queued.set(principal, []);
      run(principal, [waiter], perMinute);
    });
}
