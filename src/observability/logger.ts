import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/** The parts of taskexec that log, each of which may have a level of its own (`logging.levels`). */
export const LOG_COMPONENTS = ["engine", "submissions", "http", "broker", "store"] as const;
export type LogComponent = (typeof LOG_COMPONENTS)[number];

export interface LoggerSettings {
  level: string;
  /** Per component, over `level`. */
  levels?: Partial<Record<LogComponent, string>>;
  /** Unset: pretty when stdout is a terminal (and no file is named), JSON otherwise. */
  format?: "json" | "pretty" | undefined;
  /** Appended to instead of stdout; reopened on SIGHUP. */
  file?: string | undefined;
  name?: string;
}

/**
 * Set on a logger this module made, and so seen by every child of it (pino makes a child with
 * `Object.create(parent)`): the logger to derive components from, and their levels.
 */
const ROOT = Symbol("taskexec.log.root");
const LEVELS = Symbol("taskexec.log.levels");
interface Rooted {
  [ROOT]?: Logger;
  [LEVELS]?: Partial<Record<LogComponent, string>>;
}

/**
 * The structured logger every part of taskexec writes to: JSON lines, or (`pretty`, for a person
 * at a terminal) readable lines; on stdout or appended to a file. Parameters, results, tokens and
 * keys are never given to it (each line names its fields); the redaction below is a second fence
 * for an error object that carries a request's headers.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name: settings.name ?? "taskexec",
    level: settings.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      // Fixed paths: a wildcard makes every line cost twice as much (4.9 → 8.5 µs here).
      paths: ["token", "authorization", "headers.authorization", "req.headers.authorization"],
      censor: "[redacted]",
    },
  };
  const log = pino(options, destination(settings));
  Object.assign(log, { [ROOT]: log, [LEVELS]: settings.levels ?? {} });
  return log;
}

function destination(settings: LoggerSettings): DestinationStream {
  const toTerminal = settings.file === undefined && process.stdout.isTTY;
  const format = settings.format ?? (toTerminal ? "pretty" : "json");
  let file: ReturnType<typeof pino.destination> | undefined;
  if (settings.file !== undefined) {
    mkdirSync(dirname(settings.file), { recursive: true });
    // Synchronous, as pino's stdout is: the last lines before a crash are the ones wanted most.
    file = pino.destination({ dest: settings.file, sync: true, append: true });
    // logrotate moves the file and sends SIGHUP: lines go to a new file of the same name.
    const reopen = () => file!.reopen();
    process.on("SIGHUP", reopen);
  }
  if (format === "pretty")
    return pretty({
      colorize: toTerminal,
      sync: true,
      ignore: "pid,hostname,name",
      ...(file !== undefined && { destination: file }),
    });
  return file ?? pino.destination({ dest: 1, sync: true });
}

/**
 * The logger of one component: its lines say `component`, at the component's own level when
 * `logging.levels` names one. Made from the root, whichever of its children it is given (so a
 * line never names two components); a logger this module did not make (an application's, given
 * to the library) only gets the field.
 */
export function componentLogger(log: Logger, component: LogComponent): Logger {
  const rooted = log as Logger & Rooted;
  const root = rooted[ROOT] ?? log;
  const level = rooted[LEVELS]?.[component];
  return level === undefined ? root.child({ component }) : root.child({ component }, { level });
}
