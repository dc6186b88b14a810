// Memory and submit cost with a large queue, in a process of its own (RSS is per process):
// submits N no-op tasks in batches of 1,000 to an embedded executor, then starts it with
// handlers that never finish (so the queue stays full) and reads RSS.
import { join } from "node:path";
import { createExecutor, defineHandler } from "../src/index.js";
import { scratchDir } from "./targets/scratch.js";

const n = Number(process.argv[2] ?? 1_000_000);
const scratch = scratchDir();
const executor = await createExecutor({
  store: { url: `sqlite:${join(scratch.dir, "memory.db")}` },
  max_concurrent_tasks: 100,
  logging: { level: "silent" },
  handlers: [
    defineHandler({
      type: "hold",
      run: ({ signal }) => new Promise((r) => signal.addEventListener("abort", r)),
    }),
  ],
});
const client = executor.client();
const batch = 1000;
const window = Math.min(10_000, Math.floor(n / 4));
const timeOf = async (from: number, count: number) => {
  const t0 = performance.now();
  for (let i = from; i < from + count; i += batch) {
    await client.submitMany(
      Array.from({ length: Math.min(batch, from + count - i) }, () => ({ type: "hold" })),
    );
  }
  return performance.now() - t0;
};
const first = await timeOf(0, window);
await timeOf(window, n - 2 * window);
const last = await timeOf(n - window, window);
await executor.start();
await new Promise((r) => setTimeout(r, 2000));
const rssMb = process.memoryUsage().rss / (1024 * 1024);
console.log(
  JSON.stringify({
    queued: n,
    window,
    rss_mb: Math.round(rssMb),
    first_10k_ms: Math.round(first),
    last_10k_ms: Math.round(last),
    last_over_first: Math.round((last / first) * 100) / 100,
  }),
);
await executor.stop({ graceMs: 0 });
scratch.remove();
