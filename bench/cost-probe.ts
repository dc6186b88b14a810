// What one measurement costs beyond its own process: the CPU of every process of the system
// (PostgreSQL's backends, RabbitMQ, every node process: the harness's and its children), and the
// row versions each table of its database got. Read from /proc and pg_stat_user_tables before and
// after the measured jobs (issue 27: "CPU per task, all processes together", "row versions per task").
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";

/** The processes a taskexec shape runs as, and its peers' servers. */
const SYSTEM = new Set(["postgres", "beam.smp", "node", "redis-server", "erl_child_setup"]);
/** USER_HZ: /proc counts CPU time in these ticks (100 on Linux everywhere that matters). */
const TICKS_PER_S = 100;

/**
 * CPU seconds used so far by the system's processes: each live one's own and its reaped
 * children's (a PostgreSQL backend that exited is in the postmaster's, a child process that ended
 * in its parent's), so that the difference of two readings is what ran in between.
 */
function systemCpuS(): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    if (!SYSTEM.has(comm)) continue;
    // After the comm: state ppid … utime(14) stime(15) cutime(16) cstime(17), 1-based over the whole line.
    const fields = stat.slice(close + 2).split(" ");
    const used = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    ticks.set(comm, (ticks.get(comm) ?? 0) + used / TICKS_PER_S);
  }
  return ticks;
}

interface TableCounts {
  [table: string]: { inserted: number; updated: number; hot: number; deleted: number };
}

async function tableCounts(url: string): Promise<TableCounts> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{
      relname: string;
      ins: string;
      upd: string;
      hot: string;
      del: string;
    }>(
      "SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_del AS del FROM pg_stat_user_tables",
    );
    return Object.fromEntries(
      rows.map((r) => [
        r.relname,
        { inserted: Number(r.ins), updated: Number(r.upd), hot: Number(r.hot), deleted: Number(r.del) },
      ]),
    );
  } finally {
    await client.end();
  }
}

/**
 * A backend's statistics reach pg_stat_user_tables when it exits, or within seconds of going
 * idle (up to 10 s on PostgreSQL 15): the counts are read once the target has closed its
 * connections, and a moment later.
 */
const STATS_SETTLE_MS = 1_500;

/** CPU µs per job over the measured jobs: every process of the system together, and by program. */
export function cpuProbe(): { stop: (jobs: number) => { total: number; byProgram: Record<string, number> } } {
  const before = systemCpuS();
  return {
    stop: (jobs) => {
      const byProgram: Record<string, number> = {};
      let total = 0;
      for (const [program, seconds] of systemCpuS()) {
        const us = ((seconds - (before.get(program) ?? 0)) * 1e6) / jobs;
        total += us;
        if (us >= 1) byProgram[program] = Math.round(us);
      }
      return { total: Math.round(total), byProgram };
    },
  };
}

/** Per table: row versions written per job (inserts + updates + deletes), and how many updates were HOT. */
export type RowVersions = Record<string, { versions: number; hot_updates: number }>;

/** Counts the row versions of `database`'s tables from now; `stop(jobs)` once its connections are closed. */
export async function rowVersionProbe(
  database: string,
): Promise<{ stop: (jobs: number) => Promise<RowVersions> }> {
  const before = await tableCounts(database);
  return {
    stop: async (jobs) => {
      await new Promise((r) => setTimeout(r, STATS_SETTLE_MS));
      const after = await tableCounts(database);
      const perJob: RowVersions = {};
      for (const [table, a] of Object.entries(after)) {
        const b = before[table] ?? { inserted: 0, updated: 0, hot: 0, deleted: 0 };
        const versions = a.inserted - b.inserted + (a.updated - b.updated) + (a.deleted - b.deleted);
        if (versions === 0) continue;
        perJob[table] = {
          versions: Math.round((versions / jobs) * 100) / 100,
          hot_updates: Math.round(((a.hot - b.hot) / jobs) * 100) / 100,
        };
      }
      return perJob;
    },
  };
}
