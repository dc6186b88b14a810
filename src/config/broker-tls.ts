import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "./config-error.js";
import type { CompiledOptions } from "./options.js";

/** What a TLS connection to the broker is made with (Node's `tls.connect` options). */
export interface BrokerTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/**
 * The files of `message_broker_tls`, read once at start; a file that cannot be read stops the
 * start, naming its key. Undefined when none is set (an `amqps://` URL then trusts the system's CAs).
 */
export function readBrokerTls(options: CompiledOptions): BrokerTls | undefined {
  const files = options.message_broker_tls;
  const tls: BrokerTls = {};
  for (const key of ["ca", "cert", "key"] as const) {
    const file = files[key];
    if (file === undefined) continue;
    try {
      tls[key] = readFileSync(resolve(file));
    } catch (error) {
      throw new ConfigError([
        { path: `message_broker_tls.${key}`, message: `cannot read ${file}: ${(error as Error).message}` },
      ]);
    }
  }
  return Object.keys(tls).length === 0 ? undefined : tls;
}
