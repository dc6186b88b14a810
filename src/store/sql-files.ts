import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Reads a folder of one-statement `.sql` files into a map by name (file name without `.sql`).
 * Each backend keeps its statements as files (graphile-worker's and BullMQ's habit), so the SQL
 * can be read, diffed and tested as SQL.
 */
export function readSqlFiles<const Name extends string>(
  dir: string,
  names: readonly Name[],
): Record<Name, string> {
  const out = {} as Record<Name, string>;
  for (const name of names) out[name] = readFileSync(join(dir, `${name}.sql`), "utf8");
  return out;
}

export interface SqlMigrationFiles {
  name: string;
  up: string;
  down: string;
}

/** Pairs `NNNN_name.up.sql` with `NNNN_name.down.sql`, in name order. */
export function readMigrationFiles(dir: string): SqlMigrationFiles[] {
  const ups = readdirSync(dir)
    .filter((f) => f.endsWith(".up.sql"))
    .sort();
  return ups.map((file) => {
    const name = file.slice(0, -".up.sql".length);
    return {
      name,
      up: readFileSync(join(dir, file), "utf8"),
      down: readFileSync(join(dir, `${name}.down.sql`), "utf8"),
    };
  });
}

/** Splits a migration file into statements (each ends with `;` at the end of a line). */
export function splitStatements(text: string): string[] {
  return text
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter((s) => s.length > 0);
}
