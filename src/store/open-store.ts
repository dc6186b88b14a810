import { resolve } from "node:path";
import type { CompiledOptions } from "../config/options.js";
import { StoreConfigError } from "./errors.js";
import { openSqliteTaskStore } from "./sqlite/sqlite-task-store.js";
import type { TaskStore } from "./task-store.js";

/** Opens the store a `store.url` names: `sqlite:<path>` (embedded). */
export async function openStore(
  options: CompiledOptions["store"],
  baseDir = process.cwd(),
): Promise<TaskStore> {
  const url = options.url;
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    if (path.length === 0)
      throw new StoreConfigError("store.url: sqlite: needs a file path, e.g. sqlite:data/taskexec.db");
    return openSqliteTaskStore({ path: resolve(baseDir, path), synchronous: options.synchronous });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new StoreConfigError(
      "store.url: PostgreSQL (distributed mode) is not available in this version yet",
    );
  }
  throw new StoreConfigError(`store.url: unsupported store "${url}" (use sqlite:<path>)`);
}
