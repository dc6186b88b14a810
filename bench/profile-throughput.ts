// Profiling aid: `node --cpu-prof --cpu-prof-dir=DIR --import tsx bench/profile-throughput.ts [n] [bulk|single] [library|http]`
// runs one throughput scenario of one taskexec target alone and prints jobs/s.
import { throughput } from "./scenarios.js";
import { TaskexecHttpTarget } from "./targets/taskexec-http.js";
import { TaskexecLibraryTarget } from "./targets/taskexec-library.js";

const n = Number(process.argv[2] ?? 50_000);
const mode = process.argv[3] === "single" ? "single" : "bulk";
const target = process.argv[4] === "http" ? new TaskexecHttpTarget() : new TaskexecLibraryTarget();
const result = await throughput(target, n, mode);
console.log(JSON.stringify({ target: target.name, n, mode, ...result }));
