import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
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
    const file = resolve(baseDir, path);
    let module: Record<string, unknown>;
    try {
      module = await importModule(file);
    } catch (error) {
      throw new ConfigError([
        { path: `handlers[${i}]`, message: `cannot load "${path}": ${loadFailure(error)}` },
      ]);
    }
    // A CommonJS module's exports arrive as the default export's properties.
    const exported =
      isHandler(module.default) || typeof module.default !== "object" || module.default === null
        ? Object.values(module)
        : [...Object.values(module), ...Object.values(module.default as Record<string, unknown>)];
    const found = exported
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

const TYPESCRIPT = /\.[cm]?tsx?$/;

/**
 * Imports a module; a TypeScript one through tsx when Node cannot load it alone (Node 20 strips no
 * types): tsx's loader is registered on first need, found beside the module, in the current
 * folder, or beside taskexec.
 */
async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if (!TYPESCRIPT.test(file) || (error as { code?: string }).code !== "ERR_UNKNOWN_FILE_EXTENSION")
      throw error;
  }
  await registerTsx(file);
  // Under another URL: the loader keeps the first attempt's failure for this one.
  return (await import(`${url}?typescript`)) as Record<string, unknown>;
}

class TsxMissingError extends Error {}

let tsxRegistered: Promise<void> | undefined;

function registerTsx(file: string): Promise<void> {
  return (tsxRegistered ??= (async () => {
    const places = [join(dirname(file), "noop.js"), join(process.cwd(), "noop.js"), import.meta.url];
    for (const place of places) {
      let manifest: string;
      try {
        manifest = createRequire(place).resolve("tsx/package.json");
      } catch {
        continue;
      }
      // Its main entry registers its ESM and CommonJS hooks, as `node --import tsx` does.
      const { exports } = JSON.parse(readFileSync(manifest, "utf8")) as { exports: Record<string, string> };
      await import(pathToFileURL(join(dirname(manifest), exports["."]!)).href);
      return;
    }
    throw new TsxMissingError();
  })());
}

function loadFailure(error: unknown): string {
  if (error instanceof TsxMissingError)
    return (
      "a TypeScript module needs tsx to load: `npm install --save-dev tsx` (or compile it to .js, " +
      'or start with NODE_OPTIONS="--import tsx")'
    );
  return error instanceof Error ? (error.message.split("\n")[0] ?? error.message) : String(error);
}
