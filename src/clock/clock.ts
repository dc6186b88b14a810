/** The Clock port: time and one-shot timers. Real in production; tests may bring a fake one. */
export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  // A ref'd timer: a started executor always has one armed (housekeeping), so it keeps the
  // process alive until stop() clears its timers — like a server until it closes.
  setTimer: (ms, fn) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
