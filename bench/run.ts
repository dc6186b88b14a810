// npm run bench [-- --smoke] [-- --only name,name]: taskexec and its peers, side by side, one run.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { latency, mix, throughput } from "./scenarios.js";
import { BullmqTarget } from "./targets/bullmq.js";
import { GraphileWorkerTarget } from "./targets/graphile-worker.js";
import { PgBossTarget } from "./targets/pg-boss.js";
import { TaskexecHttpTarget } from "./targets/taskexec-http.js";
import { TaskexecLibraryTarget } from "./targets/taskexec-library.js";
import type { BenchTarget } from "./types.js";

const smoke = process.argv.includes("--smoke");
const onlyArg = process.argv.find((a) => a.startsWith("--only="));
const only = onlyArg?.slice("--only=".length).split(",");
const sizes = smoke
  ? { throughput: 300, rates: [100], seconds: 1, mix: 300, queued: 4_000 }
  : { throughput: 50_000, rates: [500, 2000], seconds: 10, mix: 20_000, queued: 1_000_000 };

const targets: BenchTarget[] = [
  new TaskexecLibraryTarget(),
  new TaskexecHttpTarget(),
  new BullmqTarget(),
  new GraphileWorkerTarget(),
  new PgBossTarget(),
].filter((t) => only === undefined || only.some((o) => t.name.toLowerCase().includes(o.toLowerCase())));

type Row = { metric: string; better: "higher" | "lower"; values: Record<string, number | string> };
const rows: Row[] = [];
const row = (metric: string, better: Row["better"]) => {
  const r: Row = { metric, better, values: {} };
  rows.push(r);
  return r;
};

async function measure(label: string, target: BenchTarget, run: () => Promise<void>) {
  process.stderr.write(`  ${target.name}: ${label} … `);
  const t0 = performance.now();
  try {
    await run();
    process.stderr.write(`${Math.round(performance.now() - t0)} ms\n`);
  } catch (error) {
    process.stderr.write(`failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

const bulk = row(`throughput, ${sizes.throughput} no-op jobs, bulk submit (jobs/s)`, "higher");
const single = row(`throughput, ${sizes.throughput} no-op jobs, one by one (jobs/s)`, "higher");
const latencyRows = sizes.rates.map((rate) => ({
  rate,
  start99: row(`p99 submit → start at ${rate}/s (ms)`, "lower"),
  start50: row(`p50 submit → start at ${rate}/s (ms)`, "lower"),
  done99: row(`p99 submit → completed at ${rate}/s (ms)`, "lower"),
}));
const mixRow = row(`realistic mix, ${sizes.mix} jobs (jobs/s)`, "higher");

for (const target of targets) {
  process.stderr.write(`${target.name} on ${target.backend}\n`);
  await measure("throughput bulk", target, async () => {
    bulk.values[target.name] = (await throughput(target, sizes.throughput, "bulk")).jobs_per_s;
  });
  await measure("throughput single", target, async () => {
    single.values[target.name] = (await throughput(target, sizes.throughput, "single")).jobs_per_s;
  });
  for (const l of latencyRows) {
    await measure(`latency at ${l.rate}/s`, target, async () => {
      const r = await latency(target, l.rate, sizes.seconds);
      l.start99.values[target.name] = r.to_start_ms.p99;
      l.start50.values[target.name] = r.to_start_ms.p50;
      l.done99.values[target.name] = r.to_completed_ms.p99;
    });
  }
  await measure("realistic mix", target, async () => {
    mixRow.values[target.name] = (await mix(target, sizes.mix)).jobs_per_s;
  });
}

let memory: Record<string, number> | undefined;
if (only === undefined || only.some((o) => "taskexec".includes(o.toLowerCase()))) {
  process.stderr.write(`taskexec: memory with ${sizes.queued} queued … `);
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "memory-child.ts"), String(sizes.queued)],
    {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    },
  );
  memory = JSON.parse(out.trim().split("\n").pop()!) as Record<string, number>;
  process.stderr.write("done\n");
}

// The table: each figure, then each taskexec figure as a ratio to each peer.
const names = targets.map((t) => t.name);
const ours = names.filter((n) => n.startsWith("taskexec"));
const peers = names.filter((n) => !n.startsWith("taskexec"));
const cell = (v: number | string | undefined) => (v === undefined ? "–" : String(v));
const lines = [`| metric | ${names.join(" | ")} |`, `|---|${names.map(() => "---:").join("|")}|`];
for (const r of rows) lines.push(`| ${r.metric} | ${names.map((n) => cell(r.values[n])).join(" | ")} |`);
const ratioLines: string[] = [];
if (peers.length > 0 && ours.length > 0) {
  ratioLines.push(
    `| metric (${"×"} better than the peer; > 1 is better) | ${ours.flatMap((o) => peers.map((p) => `${o.replace("taskexec ", "")} vs ${p}`)).join(" | ")} |`,
  );
  ratioLines.push(`|---|${ours.flatMap(() => peers.map(() => "---:")).join("|")}|`);
  for (const r of rows) {
    const ratios = ours.flatMap((o) =>
      peers.map((p) => {
        const a = Number(r.values[o]);
        const b = Number(r.values[p]);
        if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0 || b === 0) return "–";
        return `${(r.better === "higher" ? a / b : b / a).toFixed(2)}×`;
      }),
    );
    ratioLines.push(`| ${r.metric} | ${ratios.join(" | ")} |`);
  }
}
const machine = {
  cpus: cpus().length,
  cpu_model: cpus()[0]?.model ?? "?",
  memory_gb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
};
console.log(
  `\ntaskexec benchmark${smoke ? " (smoke sizes)" : ""} — ${machine.cpus} × ${machine.cpu_model}, ${machine.memory_gb} GiB, Node ${machine.node}\n`,
);
console.log(lines.join("\n"));
if (ratioLines.length > 0) console.log(`\n${ratioLines.join("\n")}`);
if (memory) {
  console.log(
    `\nmemory: ${memory.queued} tasks queued → RSS ${memory.rss_mb} MB; submitting the first ${memory.window} took ${memory.first_10k_ms} ms, the last ${memory.window} ${memory.last_10k_ms} ms (${memory.last_over_first}×)`,
  );
}
const completion = Object.fromEntries(
  targets.map((t) => [
    t.name,
    { backend: t.backend, completed_seen_by: t.completionSeenBy, max_jobs: t.maxJobs ?? null },
  ]),
);
for (const t of targets)
  if (t.maxJobs !== undefined) console.log(`\n${t.name}: at most ${t.maxJobs} jobs per scenario.`);
const result = { date: new Date().toISOString(), smoke, machine, sizes, rows, memory, targets: completion };
const dir = join(import.meta.dirname, "results");
mkdirSync(dir, { recursive: true });
const stamp = new Date().toISOString().slice(0, 16).replace(":", "-");
const file = join(dir, `${stamp}${only ? `-${only.join("-")}` : ""}${smoke ? "-smoke" : ""}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwrote ${file}`);
const failed = rows.some((r) => names.some((n) => r.values[n] === undefined));
process.exit(failed && smoke ? 1 : 0);
