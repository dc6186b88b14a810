import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../../src/engine/retry-policy.js";

const defaults = { max_attempts: 3, base_ms: 1000, factor: 2, max_ms: 300_000 };

describe("retry backoff", () => {
  it("doubles from 1 s with jitter in the upper half, capped at 5 min", () => {
    expect(retryDelayMs(defaults, 1, () => 0)).toBe(500);
    expect(retryDelayMs(defaults, 1, () => 1)).toBe(1000);
    expect(retryDelayMs(defaults, 2, () => 1)).toBe(2000);
    expect(retryDelayMs(defaults, 3, () => 1)).toBe(4000);
    expect(retryDelayMs(defaults, 30, () => 1)).toBe(300_000);
    expect(retryDelayMs(defaults, 30, () => 0)).toBe(150_000);
  });

  it("always lies between half and all of the capped exponential delay", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 1, max: 5, noNaN: true }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (base, factor, cap, attempt, r) => {
          const settings = { max_attempts: 100, base_ms: base, factor, max_ms: cap };
          const full = Math.min(cap, base * factor ** (attempt - 1));
          const delay = retryDelayMs(settings, attempt, () => r);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(full / 2));
          expect(delay).toBeLessThanOrEqual(Math.ceil(full));
        },
      ),
    );
  });
});
