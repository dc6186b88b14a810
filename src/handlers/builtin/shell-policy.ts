import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { delimiter, isAbsolute, join, relative, resolve, sep } from "node:path";
import { ConfigError } from "../../config/config-error.js";

/**
 * What a `shell` task may name, fixed when the server starts: each allowed program resolved
 * once to one absolute file (from the server's PATH, never the task's), the environment
 * variables a task may set, and the folders its `cwd` must lie in.
 */
export interface ShellPolicy {
  /** The file to run for a task's `program`, or undefined when it is not allowed. */
  program(requested: string): string | undefined;
  /** Why a task may not set this variable, or undefined when it may. */
  refuseEnv(name: string): string | undefined;
  /** The real folder to run in, or why the task's `cwd` is refused. */
  cwd(requested: string): { ok: true; dir: string } | { ok: false; reason: string };
}

/**
 * Variables that make a program load or run other code than the one allowed: the dynamic
 * loader's, language runtimes' start-up hooks and search paths, shells' start-up files.
 * PATH is here too: the program is already resolved, and its own children must not be steered.
 */
const LOADER_VARIABLES =
  /^(PATH|LD_\w*|DYLD_\w*|GCONV_PATH|GLIBC_TUNABLES|MALLOC_\w*|LOCPATH|NLSPATH|HOSTALIASES|RES_OPTIONS|LOCALDOMAIN|NODE_\w*|PYTHON\w*|PERL\w*|RUBY\w*|GEM_\w*|BUNDLE_\w*|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS|CLASSPATH|BASH_ENV|ENV|BASH_FUNC_\S*|SHELLOPTS|BASHOPTS|IFS|PS4|CDPATH|GIT_\w*|OPENSSL_\w*|SSL_CERT_\w*)$/i;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ShellPolicyOptions {
  allow_programs: readonly string[];
  /** When set, the only variables a task may set (the loader variables stay refused). */
  allow_env?: readonly string[] | undefined;
  /** Folders a task's `cwd` may name (or lie below); none: `cwd` is refused. */
  cwd_roots: readonly string[];
}

/** Resolves the allow-list now; throws {@link ConfigError} naming any entry that is not a program here. */
export function createShellPolicy(
  options: ShellPolicyOptions,
  searchPath = process.env.PATH ?? "/usr/bin:/bin",
): ShellPolicy {
  /** What a task may write as `program` → the file that then runs. */
  const programs = new Map<string, string>();
  const problems: { path: string; message: string }[] = [];
  for (const [i, entry] of options.allow_programs.entries()) {
    const file = resolveProgram(entry, searchPath);
    if (file === undefined) {
      problems.push({
        path: `builtins.shell.allow_programs.${i}`,
        message: entry.includes("/")
          ? `${entry} is not an executable file (a path must be absolute)`
          : `no executable ${entry} on the server's PATH`,
      });
      continue;
    }
    programs.set(entry, file);
    programs.set(file, file);
    programs.set(realpathSync(file), file);
  }
  const roots: string[] = [];
  for (const [i, root] of options.cwd_roots.entries()) {
    try {
      if (!statSync(root).isDirectory()) throw new Error("not a folder");
      roots.push(realpathSync(resolve(root)));
    } catch {
      problems.push({ path: `builtins.shell.cwd_roots.${i}`, message: `${root} is not a folder` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const allowEnv = options.allow_env === undefined ? undefined : new Set(options.allow_env);

  return {
    program: (requested) => programs.get(requested),
    refuseEnv(name) {
      if (!ENV_NAME.test(name)) return "is not a variable name";
      if (LOADER_VARIABLES.test(name))
        return "may not be set: it changes what code the program loads or runs";
      if (allowEnv !== undefined && !allowEnv.has(name)) return "is not in builtins.shell.allow_env";
      return undefined;
    },
    cwd(requested) {
      if (roots.length === 0)
        return { ok: false, reason: "is not allowed: builtins.shell.cwd_roots is empty" };
      let dir: string;
      try {
        // The real path: a symbolic link inside a root must not lead out of it.
        dir = realpathSync(resolve(roots[0]!, requested));
      } catch {
        return { ok: false, reason: "is not an existing folder" };
      }
      return roots.some((root) => within(root, dir))
        ? { ok: true, dir }
        : { ok: false, reason: "is outside builtins.shell.cwd_roots" };
    },
  };
}

function resolveProgram(entry: string, searchPath: string): string | undefined {
  if (entry.includes("/")) return isAbsolute(entry) && isExecutableFile(entry) ? entry : undefined;
  for (const dir of searchPath.split(delimiter)) {
    // An empty or relative PATH entry means the working directory: never search it.
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, entry);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function within(root: string, dir: string): boolean {
  const rel = relative(root, dir);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}
