import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../config/config-error.js";
import { type AnyTaskHandler, isHandler } from "./handler.js";

/**
 * Imports handler modules named in config. A module may export handlers by name, as its
 * default export, or as a default-exported array. A module that exports none is a config error.
 */
export async function loadHandlerModules(
  paths: readonly string[],
  baseDir = process.cwd(),
): Promise<AnyTaskHandler[]> {
  const handlers: AnyTaskHandler[] = [];
  for (const [i, path] of paths.entries()) {
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(resolve(baseDir, path)).href)) as Record<string, unknown>;
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new ConfigError([{ path: `handlers[${i}]`, message: `cannot load "${path}": ${reason}` }]);
    }
    const found = Object.values(module)
      .flatMap((value): unknown[] => (Array.isArray(value) ? (value as unknown[]) : [value]))
      .filter(isHandler);
    if (found.length === 0) {
      throw new ConfigError([
        { path: `handlers[${i}]`, message: `"${path}" exports no handler (use defineHandler)` },
      ]);
    }
    handlers.push(...new Set(found));
  }
  return handlers;
}
