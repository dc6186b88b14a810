import type { FastifyInstance } from "fastify";
import { ConfigError } from "../config/config-error.js";

/** Where a process listens, and the config key that says so (named when it cannot). */
export interface ListenAddress {
  host: string;
  port: number;
  /** The key of the port, e.g. `http.port`. */
  key: string;
  /** When the port is taken, listen on any free one instead (a default, not a port the user chose). */
  anyPortIfTaken?: boolean;
}

/**
 * Listens on `where` and resolves to the URL it serves at (the real port when 0 was asked for,
 * or when a taken default gave way to a free one). A port taken or refused is a
 * {@link ConfigError} naming the key, after `undo` has stopped what was started for it.
 */
export async function listenAt(
  app: FastifyInstance,
  where: ListenAddress,
  undo: () => Promise<void>,
  scheme: "http" | "https" = "http",
): Promise<string> {
  try {
    try {
      await app.listen({ host: where.host, port: where.port });
    } catch (error) {
      if (!where.anyPortIfTaken || (error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
      await app.listen({ host: where.host, port: 0 });
    }
  } catch (error) {
    await undo();
    const reason =
      (error as NodeJS.ErrnoException).code === "EADDRINUSE" ? "the port is already in use" : String(error);
    throw new ConfigError([
      { path: where.key, message: `cannot listen on ${where.host}:${where.port}: ${reason}` },
    ]);
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : where.port;
  const host = where.host.includes(":") ? `[${where.host}]` : where.host;
  return `${scheme}://${host}:${port}`;
}
