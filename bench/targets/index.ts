import type { BenchTarget } from "../types.js";

/**
 * Every system the harness measures, by the key a measurement process is started with, in the
 * order of the table. A backend is one more entry here. Each loads only its own modules, so a
 * measurement process holds no other system's code.
 */
export const benchTargets: Readonly<Record<string, () => Promise<BenchTarget>>> = {
  library: async () => new (await import("./taskexec-library.js")).TaskexecLibraryTarget(),
  "library-sealed": async () => new (await import("./taskexec-library.js")).TaskexecLibraryTarget(true),
  "library-postgres": async () =>
    new (await import("./taskexec-library.js")).TaskexecLibraryTarget(false, true),
  http: async () => new (await import("./taskexec-http.js")).TaskexecHttpTarget(),
  bullmq: async () => new (await import("./bullmq.js")).BullmqTarget(),
  "graphile-worker": async () => new (await import("./graphile-worker.js")).GraphileWorkerTarget(),
  "graphile-batched": async () => new (await import("./graphile-worker.js")).GraphileWorkerTarget(true),
  "pg-boss": async () => new (await import("./pg-boss.js")).PgBossTarget(),
  postgres: async () => new (await import("./taskexec-postgres.js")).TaskexecPostgresTarget(),
  "postgres-sealed": async () => new (await import("./taskexec-postgres.js")).TaskexecPostgresTarget(true),
  distributed: async () => new (await import("./taskexec-distributed.js")).TaskexecDistributedTarget(),
  "distributed-sealed": async () =>
    new (await import("./taskexec-distributed.js")).TaskexecDistributedTarget(true),
  "distributed-amqp": async () =>
    new (await import("./taskexec-distributed.js")).TaskexecDistributedTarget(false, "amqp"),
};
