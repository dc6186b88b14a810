// The bench handler for the second `serve` of the PostgreSQL target: the same work as the
// harness's (bench/tracker.ts), without its hooks (the harness hears this process's statuses
// through the database). A job asked to fail once fails its first attempt.
import { setTimeout as sleep } from "node:timers/promises";
import { defineHandler } from "../../dist/src/index.js";

export const bench = defineHandler({
  type: "bench",
  async run({ parameters, attempt }) {
    if (parameters.failOnce && attempt === 1) throw new Error("bench: failing once, as asked");
    if (parameters.sleepMs > 0) await sleep(parameters.sleepMs);
  },
});
