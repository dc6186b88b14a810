// npm run bench [-- --smoke] [-- --only name,name] [-- --repeat N]: taskexec and its peers, side by
// side, one run; with --repeat, each figure is the median of N rounds.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { format } from "prettier";
import type { LatencyResult, MixResult, ThroughputResult } from "./scenarios.js";
import { benchTargets } from "./targets/index.js";
import { round } from "./tracker.js";
import type { BenchTarget } from "./types.js";

const smoke = process.argv.includes("--smoke");
const onlyArg = process.argv.find((a) => a.startsWith("--only="));
const only = onlyArg?.slice("--only=".length).split(",");
const sizes = smoke
  ? { throughput: 300, rates: [100], seconds: 1, mix: 300, queued: 4_000 }
  : { throughput: 50_000, rates: [500, 2000], seconds: 10, mix: 20_000, queued: 1_000_000 };

/** Each system with the key its measurement processes are started with (see bench/measure-one.ts). */
type Entry = { key: string; target: BenchTarget };
const targets: Entry[] = (
  await Promise.all(Object.entries(benchTargets).map(async ([key, make]) => ({ key, target: await make() })))
).filter(
  ({ target: t }) => only === undefined || only.some((o) => t.name.toLowerCase().includes(o.toLowerCase())),
);

const repeatArg = process.argv.find((a) => a.startsWith("--repeat="));
const repeat = Math.max(1, Number(repeatArg?.slice("--repeat=".length) ?? 1) || 1);

/** One figure per target: the median of its samples (one sample per round). */
type Row = {
  metric: string;
  better: "higher" | "lower";
  /** Only some systems have it (row versions: those on PostgreSQL); a blank is no failure. */
  partial?: boolean;
  values: Record<string, number | string>;
  samples: Record<string, number[]>;
};
const rows: Row[] = [];
const row = (metric: string, better: Row["better"], partial = false) => {
  const r: Row = { metric, better, partial, values: {}, samples: {} };
  rows.push(r);
  return r;
};
const record = (r: Row, target: string, value: number) => {
  (r.samples[target] ??= []).push(value);
};

/**
 * One scenario against one target in a fresh process (bench/measure-one.ts): no system inherits
 * another's heap, sockets or timers, nor the garbage of the scenario before.
 */
/** A measurement that hangs (a peer that stops taking jobs) is killed and reported, not waited for. */
const MEASURE_TIMEOUT_MS = smoke ? 120_000 : 1_800_000;

function measureOne<R>(key: string, n: number, mode: string, seconds = sizes.seconds): Promise<R> {
  const args = [
    "--import",
    "tsx",
    join(import.meta.dirname, "measure-one.ts"),
    String(n),
    mode,
    key,
    String(seconds),
  ];
  return new Promise((resolve, reject) => {
    const options = {
      encoding: "utf8",
      maxBuffer: 1 << 20,
      timeout: MEASURE_TIMEOUT_MS,
      killSignal: "SIGKILL",
    } as const;
    execFile(process.execPath, args, options, (error, stdout, stderr) => {
      if (error?.killed) {
        reject(new Error(`did not finish in ${MEASURE_TIMEOUT_MS / 1000} s (killed)`));
        return;
      }
      if (error) {
        const said = stderr.split("\n").find((line) => line.startsWith("failed: "));
        reject(new Error(said?.slice("failed: ".length) ?? (stderr.trim() || error.message)));
      } else resolve(JSON.parse(stdout.trim().split("\n").pop()!) as R);
    });
  });
}

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
/** The last bulk run's CPU per job by program, per target (printed under the table). */
const bulkCpuByProgram: Record<string, Record<string, number>> = {};
const bulkCpu = row("CPU per job in bulk, every process of the system together (µs)", "lower");
const bulkRows = row("row versions per job in bulk, PostgreSQL, all tables", "lower", true);
const bulkHotTable = row("row versions per job in bulk, PostgreSQL, the busiest table", "lower", true);
const single = row(`throughput, ${sizes.throughput} no-op jobs, one by one (jobs/s)`, "higher");
const latencyRows = sizes.rates.map((rate) => ({
  rate,
  start99: row(`p99 submit → start at ${rate}/s (ms)`, "lower"),
  start50: row(`p50 submit → start at ${rate}/s (ms)`, "lower"),
  done99: row(`p99 submit → completed at ${rate}/s (ms)`, "lower"),
}));
const mixRow = row(`realistic mix, ${sizes.mix} jobs (jobs/s)`, "higher");

/** Each scenario, run against one target: records one sample per row it fills. */
const scenarios: { label: string; run: (entry: Entry) => Promise<void> }[] = [
  {
    label: "throughput bulk",
    run: async ({ key, target: t }) => {
      const r = await measureOne<ThroughputResult>(key, sizes.throughput, "bulk");
      record(bulk, t.name, r.jobs_per_s);
      record(bulkCpu, t.name, r.all_cpu_us_per_job);
      bulkCpuByProgram[t.name] = r.cpu_us_per_job_by_program;
      if (r.row_versions_per_job !== undefined) {
        const versions = Object.values(r.row_versions_per_job).map((v) => v.versions);
        record(bulkRows, t.name, round(versions.reduce((a, b) => a + b, 0)));
        record(bulkHotTable, t.name, Math.max(...versions));
      }
    },
  },
  {
    label: "throughput single",
    run: async ({ key, target: t }) =>
      record(
        single,
        t.name,
        (await measureOne<ThroughputResult>(key, sizes.throughput, "single")).jobs_per_s,
      ),
  },
  ...latencyRows.map((l) => ({
    label: `latency at ${l.rate}/s`,
    run: async ({ key, target: t }: Entry) => {
      const r = await measureOne<LatencyResult>(key, l.rate, "latency");
      record(l.start99, t.name, r.to_start_ms.p99);
      record(l.start50, t.name, r.to_start_ms.p50);
      record(l.done99, t.name, r.to_completed_ms.p99);
    },
  })),
  {
    label: "realistic mix",
    run: async ({ key, target: t }) =>
      record(mixRow, t.name, (await measureOne<MixResult>(key, sizes.mix, "mix")).jobs_per_s),
  },
];

// Scenario by scenario, every target in turn (in reverse order every other round), so that a
// machine that drifts during the run (this one's disk and CPU do, by tens of per cent over
// minutes) weighs on every system alike instead of on whichever ran last.
for (let round = 1; round <= repeat; round++) {
  if (repeat > 1) process.stderr.write(`round ${round} of ${repeat}\n`);
  const order = round % 2 === 1 ? targets : [...targets].reverse();
  for (const scenario of scenarios)
    for (const entry of order) await measure(scenario.label, entry.target, () => scenario.run(entry));
}
for (const r of rows) for (const [name, values] of Object.entries(r.samples)) r.values[name] = median(values);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : round((sorted[mid - 1]! + sorted[mid]!) / 2);
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
const names = targets.map(({ target: t }) => t.name);
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
// Encryption at rest: each sealed target against its twin in clear, measured in the same run.
const SEALED = ", encrypted at rest";
const sealedPairs = names.flatMap((sealed) => {
  const clear = sealed.replace(SEALED, "");
  return sealed.includes(SEALED) && names.includes(clear) ? [{ sealed, clear }] : [];
});
const sealedLines: string[] = [];
if (sealedPairs.length > 0) {
  sealedLines.push(
    `| metric (encrypted at rest as a share of in clear; 1 is no cost) | ${sealedPairs.map((p) => p.clear.replace("taskexec ", "")).join(" | ")} |`,
  );
  sealedLines.push(`|---|${sealedPairs.map(() => "---:").join("|")}|`);
  for (const r of rows) {
    const shares = sealedPairs.map(({ sealed, clear }) => {
      const a = Number(r.values[sealed]);
      const b = Number(r.values[clear]);
      if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0 || b === 0) return "–";
      return `${(r.better === "higher" ? a / b : b / a).toFixed(2)}×`;
    });
    sealedLines.push(`| ${r.metric} | ${shares.join(" | ")} |`);
  }
}
const machine = {
  cpus: cpus().length,
  cpu_model: cpus()[0]?.model ?? "?",
  memory_gb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
};
console.log(
  `\ntaskexec benchmark${smoke ? " (smoke sizes)" : ""}${repeat > 1 ? `, medians of ${repeat} rounds` : ""} — ${machine.cpus} × ${machine.cpu_model}, ${machine.memory_gb} GiB, Node ${machine.node}\n`,
);
console.log(lines.join("\n"));
if (ratioLines.length > 0) console.log(`\n${ratioLines.join("\n")}`);
if (sealedLines.length > 0) console.log(`\n${sealedLines.join("\n")}`);
console.log("\nCPU per job in bulk, by program (µs):");
for (const [name, programs] of Object.entries(bulkCpuByProgram))
  console.log(
    `  ${name}: ${Object.entries(programs)
      .map(([program, us]) => `${program} ${us}`)
      .join(", ")}`,
  );
if (memory) {
  console.log(
    `\nmemory: ${memory.queued} tasks queued → RSS ${memory.rss_mb} MB; submitting the first ${memory.window} took ${memory.first_10k_ms} ms, the last ${memory.window} ${memory.last_10k_ms} ms (${memory.last_over_first}×)`,
  );
}
const completion = Object.fromEntries(
  targets.map(({ target: t }) => [
    t.name,
    { backend: t.backend, completed_seen_by: t.completionSeenBy, max_jobs: t.maxJobs ?? null },
  ]),
);
for (const { target: t } of targets)
  if (t.maxJobs !== undefined) console.log(`\n${t.name}: at most ${t.maxJobs} jobs per scenario.`);
const result = {
  date: new Date().toISOString(),
  smoke,
  repeat,
  machine,
  sizes,
  rows,
  cpu_us_per_job_in_bulk_by_program: bulkCpuByProgram,
  memory,
  targets: completion,
};
const dir = join(import.meta.dirname, "results");
mkdirSync(dir, { recursive: true });
const stamp = new Date().toISOString().slice(0, 16).replace(":", "-");
const file = join(
  dir,
  `${stamp}${only ? `-${only.join("-")}` : ""}${repeat > 1 ? `-x${repeat}` : ""}${smoke ? "-smoke" : ""}.json`,
);
// Formatted as the repository's `prettier --check` expects, so a result can be committed as written.
writeFileSync(file, await format(JSON.stringify(result), { parser: "json" }));
console.log(`\nwrote ${file}`);
const failed = rows.some((r) => !r.partial && names.some((n) => r.values[n] === undefined));
process.exit(failed && smoke ? 1 : 0);
