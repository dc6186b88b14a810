import { configDefaults, defineConfig } from "vitest/config";
import SummaryReporter from "./test/helpers/summary-reporter.js";

// Tests that must run alone, one file at a time (`npm run test:soak`, TEST_SOAK=1): the soak
// (test/soak) measures the server's memory and latency under 2,000 hostile sockets, and the
// `*.alone.test.ts` files stop shared services (a PostgreSQL restart) that other files use.
const alone = process.env.TEST_SOAK === "1";
const ALONE = ["test/soak/**/*.test.ts", "test/**/*.alone.test.ts"];

export default defineConfig({
  test: {
    include: alone ? ALONE : ["test/**/*.test.ts"],
    exclude: alone ? configDefaults.exclude : [...configDefaults.exclude, ...ALONE],
    fileParallelism: !alone,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default", new SummaryReporter()],
  },
});
