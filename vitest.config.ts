import { configDefaults, defineConfig } from "vitest/config";
import SummaryReporter from "./test/helpers/summary-reporter.js";

// The soak (test/soak) measures the server's memory and latency under 2,000 hostile sockets: it
// runs alone (`npm run test:soak`, TEST_SOAK=1), not beside other test files on two cores.
const soak = process.env.TEST_SOAK === "1";

export default defineConfig({
  test: {
    include: soak ? ["test/soak/**/*.test.ts"] : ["test/**/*.test.ts"],
    exclude: soak ? configDefaults.exclude : [...configDefaults.exclude, "test/soak/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default", new SummaryReporter()],
  },
});
