// Profiling aid: `node --cpu-prof --cpu-prof-dir=DIR --import tsx bench/profile-throughput.ts [n] [bulk|single|mix] [library|http|bullmq]`
// runs one throughput scenario (or the realistic mix) of one target alone and prints jobs/s and CPU µs per job (BullMQ: the peer to pair
// a run with, interleaved, when the machine drifts).
import { mix, throughput } from "./scenarios.js";
import { BullmqTarget } from "./targets/bullmq.js";
import { TaskexecHttpTarget } from "./targets/taskexec-http.js";
import { TaskexecLibraryTarget } from "./targets/taskexec-library.js";
import type { BenchTarget } from "./types.js";

const n = Number(process.argv[2] ?? 50_000);
const mode = process.argv[3] === "single" ? "single" : process.argv[3] === "mix" ? "mix" : "bulk";
const targets: Record<string, () => BenchTarget> = {
  library: () => new TaskexecLibraryTarget(),
  http: () => new TaskexecHttpTarget(),
  bullmq: () => new BullmqTarget(),
};
const target = (targets[process.argv[4] ?? "library"] ?? targets.library!)();
const cpu = process.cpuUsage();
const result = mode === "mix" ? await mix(target, n) : await throughput(target, n, mode);
// CPU of every thread of this process (the SQLite worker's too; not Redis's), set-up included.
const { user, system } = process.cpuUsage(cpu);
const cpu_us_per_job = Math.round((user + system) / n);
console.log(JSON.stringify({ target: target.name, n, mode, ...result, cpu_us_per_job }));
// A peer's client may keep sockets open after close(), as the harness's run does not wait for either.
process.exit(0);
