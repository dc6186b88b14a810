import { z } from "zod";
import { PermanentError } from "../../protocol/errors.js";
import { abortableSleep } from "../abortable-sleep.js";
import { defineHandler } from "../handler.js";

const SleepParameters = z.object({
  ms: z.number().min(0).max(86_400_000).describe("how long to sleep, in milliseconds"),
  fail_attempts: z
    .int()
    .min(0)
    .default(0)
    .describe("fail the first this many attempts (after sleeping), to drill retries"),
  permanent: z
    .boolean()
    .default(false)
    .describe("fail with a PermanentError (not retried) instead of a plain one"),
});

/** Progress at most every 50 ms, and at least once at the end. */
const MIN_STEP_MS = 50;
const MAX_STEPS = 10;

/** `sleep`: sleeps `ms` reporting progress, honours the abort signal, and fails on request. */
export const sleepHandler = defineHandler({
  type: "sleep",
  description: "Sleeps `ms` reporting progress; fails its first `fail_attempts` attempts when asked",
  parameters: SleepParameters,
  example: { ms: 3000 },
  async run({ parameters, attempt, signal, progress }) {
    const steps = Math.max(1, Math.min(MAX_STEPS, Math.floor(parameters.ms / MIN_STEP_MS)));
    for (let i = 1; i <= steps; i++) {
      await abortableSleep(parameters.ms / steps, signal);
      await progress(i / steps);
    }
    if (attempt <= parameters.fail_attempts) {
      const message = `sleep: failing attempt ${attempt} of the first ${parameters.fail_attempts}, as asked`;
      throw parameters.permanent ? new PermanentError(message) : new Error(message);
    }
    return { slept_ms: parameters.ms };
  },
});
