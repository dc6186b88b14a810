import { pino, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/**
 * The structured logger every part of taskexec writes to: JSON lines, or (with `pretty`, for a
 * person at a terminal) coloured readable lines.
 */
export function createLogger(options: { level: string; name?: string; pretty?: boolean }): Logger {
  const settings = {
    name: options.name ?? "taskexec",
    level: options.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.pretty)
    return pino(settings, pretty({ colorize: true, sync: true, ignore: "pid,hostname,name" }));
  return pino(settings);
}
