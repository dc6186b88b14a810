import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseDocument } from "yaml";
import { ConfigError } from "./config-error.js";
import { applyEnvOverrides } from "./env-overrides.js";
import { type CompiledOptions, compileOptions, ExecutorOptionsSchema } from "./options.js";

export interface LoadedConfig {
  options: CompiledOptions;
  /** The file read, or undefined when there was none (defaults and environment only). */
  file: string | undefined;
}

/**
 * Reads `config.yaml` (or `file`), replaces `${VAR}` and `${VAR:-default}` in its strings,
 * applies `TASKEXEC_*` overrides, and compiles it. Every problem becomes a {@link ConfigError}
 * naming its key path — never a stack trace.
 */
export function loadConfig(
  options: { file?: string | undefined; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const named = options.file ?? env.TASKEXEC_CONFIG;
  const file =
    named !== undefined
      ? resolve(cwd, named)
      : existsSync(resolve(cwd, "config.yaml"))
        ? resolve(cwd, "config.yaml")
        : undefined;
  let raw: Record<string, unknown> = {};
  if (file !== undefined) {
    if (!existsSync(file)) throw new ConfigError([{ path: "(file)", message: `no config file at ${file}` }]);
    raw = parseYaml(readFileSync(file, "utf8"), file);
    raw = interpolate(raw, env, "") as Record<string, unknown>;
  }
  const merged = applyEnvOverrides(raw, env, ExecutorOptionsSchema);
  return { options: compileOptions(merged), file };
}

function parseYaml(text: string, file: string): Record<string, unknown> {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((e) => ({ path: "(file)", message: `${file}: ${e.message.split("\n")[0]}` })),
    );
  }
  const value: unknown = document.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError([{ path: "(root)", message: `${file} must hold a mapping of keys to values` }]);
  }
  return value as Record<string, unknown>;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: string): unknown {
  if (typeof value === "string") {
    return value.replace(VARIABLE, (_, name: string, fallback: string | undefined) => {
      const found = env[name] ?? fallback;
      if (found === undefined) {
        throw new ConfigError([{ path: path || "(root)", message: `uses \${${name}}, which is not set` }]);
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, `${path}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        interpolate(item, env, path ? `${path}.${key}` : key),
      ]),
    );
  }
  return value;
}
