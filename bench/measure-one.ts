// One scenario against one target, in a process of its own:
//   node [--cpu-prof --cpu-prof-dir=DIR] --import tsx bench/measure-one.ts [n] [bulk|single|mix|latency] [target] [seconds]
// n is the job count (for `latency`, the offered rate per second, run for `seconds`, default 10); target is a key of
// bench/targets/index.ts (default `library`). The last line printed is the result as JSON, with the CPU µs per job of
// every thread of this process (the SQLite worker's too; not a peer's server's). `npm run bench` runs each of its
// measurements this way, so that no system inherits another's heap, sockets or timers; by hand it is the way to profile
// or A/B one scenario (pair it with `bullmq`, interleaved, when the machine drifts). BENCH_PROFILE_CHILDREN=<dir> has the
// cluster's child processes (the second serve, the workers) write CPU profiles there too.
import { latency, mix, throughput } from "./scenarios.js";
import { benchTargets } from "./targets/index.js";

const n = Number(process.argv[2] ?? 50_000);
const modes = ["bulk", "single", "mix", "latency"] as const;
const mode = modes.find((m) => m === (process.argv[3] ?? "bulk"));
const key = process.argv[4] ?? "library";
const seconds = Number(process.argv[5] ?? 10);
const make = benchTargets[key];
if (mode === undefined || make === undefined || !(n > 0) || !(seconds > 0)) {
  console.error(
    `usage: measure-one.ts [n > 0] [${modes.join("|")}] [${Object.keys(benchTargets).join("|")}] [seconds > 0]`,
  );
  process.exit(2);
}
const target = await make();
const cpu = process.cpuUsage();
try {
  const result =
    mode === "mix"
      ? await mix(target, n)
      : mode === "latency"
        ? await latency(target, n, seconds)
        : await throughput(target, n, mode);
  const { user, system } = process.cpuUsage(cpu);
  const jobs = Math.min(mode === "latency" ? n * seconds : n, target.maxJobs ?? Number.POSITIVE_INFINITY);
  const cpu_us_per_job = Math.round((user + system) / jobs);
  console.log(JSON.stringify({ target: target.name, n, mode, ...result, cpu_us_per_job }));
} catch (error) {
  // One line for the harness to report (a peer's backend down, a timeout), not a stack.
  console.error(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
// A peer's client may keep sockets open after close(), as the harness's run does not wait for either.
process.exit(0);
