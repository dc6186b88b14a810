/** Exponential backoff settings (SPEC §1): base 1 s, factor 2, cap 5 min by default. */
export interface RetrySettings {
  max_attempts: number;
  base_ms: number;
  factor: number;
  max_ms: number;
}

/**
 * The delay before retrying after failed attempt number `attempt` (1-based): the exponential
 * delay `base × factor^(attempt−1)`, capped, with "equal jitter" — a random point in its upper
 * half — so retries of many tasks that failed together spread out without ever coming early.
 */
export function retryDelayMs(
  settings: RetrySettings,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponential = settings.base_ms * settings.factor ** Math.max(0, attempt - 1);
  const capped = Math.min(settings.max_ms, exponential);
  return Math.round(capped / 2 + (random() * capped) / 2);
}
