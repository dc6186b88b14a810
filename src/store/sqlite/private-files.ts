import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Makes a database file (and the folder it is created in) readable by its owner only: task
 * parameters, results and the audit trail are in it. SQLite gives the `-wal` and `-shm` files it
 * creates the mode of the database file, so creating that one 0600 first covers them; files left
 * by an earlier version are tightened too.
 */
export function makePrivateDatabaseFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, "a", 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (existsSync(file)) chmodSync(file, 0o600);
    } catch {
      // Not ours to change (another owner): SQLite still works, with the mode it has.
    }
  }
}
