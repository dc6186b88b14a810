import { hostname } from "node:os";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { StoreInUseError } from "../errors.js";
import { makePrivateDatabaseFile } from "./private-files.js";

/** Held while a store has its SQLite file open; `release()` lets the next process in. */
export interface SqliteFileLock {
  release(): void;
}

/**
 * Takes the one-writer lock of a SQLite database file, or throws {@link StoreInUseError} naming
 * the process that holds it.
 *
 * The lock is an exclusive transaction held open on a small side database (`<file>.lock`): the
 * operating system's file lock under it ends with the process however it ends (even SIGKILL),
 * so a crashed server never leaves a stale lock behind. Beside it, `<file>.owner` says who holds it.
 */
export function lockSqliteFile(path: string): SqliteFileLock {
  makePrivateDatabaseFile(`${path}.lock`);
  const lockDb = new Database(`${path}.lock`, { timeout: 0 });
  try {
    lockDb.pragma("locking_mode = EXCLUSIVE");
    // Nothing is ever written to it: no rollback journal beside it either.
    lockDb.pragma("journal_mode = MEMORY");
    lockDb.exec("BEGIN EXCLUSIVE");
  } catch (error) {
    lockDb.close();
    if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
    throw new StoreInUseError(path, readOwner(path));
  }
  const ownerFile = `${path}.owner`;
  const started = new Date().toISOString();
  writeFileSync(
    ownerFile,
    `${JSON.stringify({ pid: process.pid, host: hostname(), since: started, command: process.argv.slice(1).join(" ") })}\n`,
    { mode: 0o600 },
  );
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      rmSync(ownerFile, { force: true });
      lockDb.close();
    },
  };
}

function readOwner(path: string): string | undefined {
  try {
    const owner = JSON.parse(readFileSync(`${path}.owner`, "utf8")) as {
      pid?: unknown;
      host?: unknown;
      since?: unknown;
      command?: unknown;
    };
    const command = typeof owner.command === "string" && owner.command !== "" ? ` (${owner.command})` : "";
    return `process ${String(owner.pid)} on ${String(owner.host)}, since ${String(owner.since)}${command}`;
  } catch {
    return undefined;
  }
}
