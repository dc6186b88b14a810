// Profiling aid: `node --cpu-prof --cpu-prof-dir=DIR --import tsx bench/profile-throughput.ts [n] [bulk|single]`
// runs one throughput scenario of taskexec (library) alone and prints jobs/s.
import { throughput } from "./scenarios.js";
import { TaskexecLibraryTarget } from "./targets/taskexec-library.js";

const n = Number(process.argv[2] ?? 50_000);
const mode = process.argv[3] === "single" ? "single" : "bulk";
const result = await throughput(new TaskexecLibraryTarget(), n, mode);
console.log(JSON.stringify({ n, mode, ...result }));
