import type { FastifyInstance } from "fastify";
import { ConfigError } from "../config/config-error.js";
import type { CompiledOptions } from "../config/options.js";

/**
 * Listens on `http.host:http.port` and resolves to the URL it serves at (the real port when 0 was
 * asked for). A port taken or refused is a {@link ConfigError} naming `http.port`, after `undo`
 * has stopped what was started for it.
 */
export async function listenAt(
  app: FastifyInstance,
  options: CompiledOptions,
  undo: () => Promise<void>,
  scheme: "http" | "https" = "http",
): Promise<string> {
  try {
    await app.listen({ host: options.http.host, port: options.http.port });
  } catch (error) {
    await undo();
    const reason =
      (error as NodeJS.ErrnoException).code === "EADDRINUSE" ? "the port is already in use" : String(error);
    throw new ConfigError([
      { path: "http.port", message: `cannot listen on ${options.http.host}:${options.http.port}: ${reason}` },
    ]);
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.http.port;
  const host = options.http.host.includes(":") ? `[${options.http.host}]` : options.http.host;
  return `${scheme}://${host}:${port}`;
}
