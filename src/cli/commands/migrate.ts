import type { Command } from "commander";
import { loadConfig } from "../../config/load-config.js";
import { openStoreMigrations, type StoreMigrations } from "../../store/store-migrations.js";
import { EXIT, UsageError } from "../cli-error.js";

interface MigrateOptions {
  config?: string;
  to?: string;
  json?: boolean;
  force?: boolean;
}

/**
 * `taskexec migrate up|down|status [--to N]`: the store's schema, on either backend. `up` goes to
 * the newest migration (or up to N), `down` one step back (or down to N; `--to 0` removes all).
 */
export function registerMigrate(program: Command, run: (code: number) => void): void {
  const migrate = program
    .command("migrate")
    .description("show or move the store's schema (SQLite file or PostgreSQL database of store.url)");
  const common = (command: Command) =>
    command
      .option("-c, --config <file>", "config file (default: ./config.yaml if present)")
      .option("--json", "print JSON");
  common(migrate.command("status").description("list the migrations and which are applied")).action(
    (options: MigrateOptions) => withMigrations(options, (m) => printStatus(m, options)).then(run),
  );
  common(
    migrate
      .command("up")
      .description("apply the migrations not applied yet (all, or up to --to N)")
      .option("--to <n>", "stop after migration N (its number or name)"),
  ).action((options: MigrateOptions) => withMigrations(options, (m) => move(m, "up", options)).then(run));
  common(
    migrate
      .command("down")
      .description("revert the newest applied migration (or all down to --to N; --to 0: every one)")
      .option("--to <n>", "revert down to migration N, which stays applied (0: revert all)")
      .option("--force", "revert even while processes use the store (they break until it is migrated up)"),
  ).action((options: MigrateOptions) =>
    withMigrations(options, (m, heartbeatMs) => move(m, "down", options, heartbeatMs)).then(run),
  );
}

async function withMigrations(
  options: MigrateOptions,
  use: (migrations: StoreMigrations, heartbeatMs: number) => Promise<number>,
): Promise<number> {
  const { options: config } = loadConfig({ file: options.config });
  const migrations = openStoreMigrations(config.store.url);
  try {
    return await use(migrations, config.heartbeat_ms);
  } finally {
    await migrations.close();
  }
}

async function printStatus(migrations: StoreMigrations, options: MigrateOptions): Promise<number> {
  const rows = await migrations.status();
  if (options.json) {
    console.log(JSON.stringify({ store: migrations.where, migrations: rows }, null, 2));
    return EXIT.ok;
  }
  console.log(`store ${migrations.where}`);
  for (const row of rows) {
    const state = row.unknown
      ? "applied, unknown to this version (a newer taskexec made it)"
      : row.appliedAt === undefined
        ? "pending"
        : `applied ${row.appliedAt.toISOString()}`;
    console.log(`  ${row.name.padEnd(40)} ${state}`);
  }
  return EXIT.ok;
}

async function move(
  migrations: StoreMigrations,
  direction: "up" | "down",
  options: MigrateOptions,
  heartbeatMs = 5_000,
): Promise<number> {
  if (direction === "down" && options.force !== true) {
    // Reverting under live processes breaks them (their queries name what is removed).
    const live = await migrations.liveNodes(Date.now() - 3 * heartbeatMs);
    if (live.length > 0)
      throw new UsageError(
        `processes use ${migrations.where} now (${live.join(", ")}): stop them first, or pass --force`,
      );
  }
  const rows = await migrations.status();
  if (rows.some((r) => r.unknown))
    throw new UsageError(
      `${migrations.where} has migrations this version does not know: use the newer taskexec to move it`,
    );
  const applied = rows.filter((r) => r.appliedAt !== undefined).map((r) => r.name);
  const current = applied.length;
  let target: number;
  if (options.to === undefined)
    target = direction === "up" ? migrations.known.length : Math.max(0, current - 1);
  else target = position(migrations.known, options.to);
  if (direction === "up" && target < current)
    throw new UsageError(
      `--to ${options.to}: the schema is past it already (at ${applied[current - 1]}); use down`,
    );
  if (direction === "down" && target > current)
    throw new UsageError(
      `--to ${options.to}: the schema is not there yet (at ${applied[current - 1] ?? "none"}); use up`,
    );
  const result =
    target === current
      ? { direction, done: [] as string[] }
      : await migrations.run({ to: target === 0 ? undefined : migrations.known[target - 1] });
  if (options.json) {
    console.log(
      JSON.stringify({
        store: migrations.where,
        direction,
        [direction === "up" ? "applied" : "reverted"]: result.done,
      }),
    );
    return EXIT.ok;
  }
  if (result.done.length === 0)
    console.log(`nothing to do: ${migrations.where} is at ${applied[current - 1] ?? "no migration"}`);
  for (const name of result.done) console.log(`${direction === "up" ? "applied " : "reverted"} ${name}`);
  return EXIT.ok;
}

/** How many migrations are applied at `--to N`: N is a number (0: none) or a migration's name. */
function position(known: readonly string[], to: string): number {
  if (/^\d+$/.test(to)) {
    const n = Number(to);
    if (n === 0) return 0;
    const index = known.findIndex((name) => Number(name.split("_")[0]) === n);
    if (index >= 0) return index + 1;
  } else {
    const index = known.indexOf(to);
    if (index >= 0) return index + 1;
  }
  throw new UsageError(`--to ${to}: no such migration (known: ${known.join(", ")})`);
}
