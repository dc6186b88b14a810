import { join } from "node:path";
import type { ExecutorOptions } from "../../src/config/options.js";
import { createExecutor, type Executor } from "../../src/executor.js";
import type { TaskStatus } from "../../src/protocol/task-status.js";
import { tempDir } from "./temp.js";

export interface Harness {
  executor: Executor;
  dbPath: string;
  cleanup: () => Promise<void>;
}

/** An executor on a fresh SQLite file, with fast retries and quiet logs; started unless told not to. */
export async function startExecutor(options: ExecutorOptions = {}, start = true): Promise<Harness> {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, "taskexec.db");
  const executor = await createExecutor({
    store: { url: `sqlite:${dbPath}` },
    logging: { level: "silent" },
    retry: { base_ms: 20, max_ms: 100 },
    resources: { cpu: 4, memory_mb: 4096, gpu: 1 },
    ...options,
  });
  if (start) await executor.start();
  return {
    executor,
    dbPath,
    cleanup: async () => {
      await executor.stop({ graceMs: 0 });
      tmp.remove();
    },
  };
}

/** Every status of a watch, until it ends (at a terminal status). */
export async function collect(
  statuses: AsyncIterable<TaskStatus>,
  timeoutMs = 10_000,
): Promise<TaskStatus[]> {
  const out: TaskStatus[] = [];
  const run = (async () => {
    for await (const status of statuses) out.push(status);
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`watch did not end within ${timeoutMs} ms; got ${summary(out)}`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

export function summary(statuses: readonly TaskStatus[]): string {
  return statuses
    .map((s) => `${s.header.sequence}:${s.body.status}/${s.body.details?.event ?? "-"}`)
    .join(" ");
}

export const events = (statuses: readonly TaskStatus[]) =>
  statuses.flatMap((s) => (s.body.details?.event ? [s.body.details.event] : []));

/** Waits until `check` holds, polling. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
