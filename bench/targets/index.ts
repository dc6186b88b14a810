import type { BenchTarget } from "../types.js";
import { BullmqTarget } from "./bullmq.js";
import { GraphileWorkerTarget } from "./graphile-worker.js";
import { PgBossTarget } from "./pg-boss.js";
import { TaskexecHttpTarget } from "./taskexec-http.js";
import { TaskexecLibraryTarget } from "./taskexec-library.js";

/**
 * Every system the harness measures, by the key a measurement process is started with, in the
 * order of the table. A backend is one more entry here.
 */
export const benchTargets: Readonly<Record<string, () => BenchTarget>> = {
  library: () => new TaskexecLibraryTarget(),
  http: () => new TaskexecHttpTarget(),
  bullmq: () => new BullmqTarget(),
  "graphile-worker": () => new GraphileWorkerTarget(),
  "pg-boss": () => new PgBossTarget(),
};
