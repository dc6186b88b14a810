/**
 * Runs `attempt` after `everyMs`, and again after each failure (reported to `onError`), until it
 * succeeds: how a consumer the broker cancelled is set up again without blocking anything. The
 * timers never keep the process alive.
 */
export function keepTrying(
  attempt: () => Promise<void>,
  onError: (error: unknown) => void,
  everyMs: number,
): void {
  setTimeout(() => {
    attempt().catch((error: unknown) => {
      onError(error);
      keepTrying(attempt, onError, everyMs);
    });
  }, everyMs).unref();
}
