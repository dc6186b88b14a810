import { type Logger, pino } from "pino";

export type { Logger };

/** The structured (JSON) logger every part of taskexec writes to. */
export function createLogger(options: { level: string; name?: string }): Logger {
  return pino({
    name: options.name ?? "taskexec",
    level: options.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
