import { z } from "zod";
import { PermanentError } from "../../protocol/errors.js";
import { defineHandler } from "../handler.js";

export interface HttpHandlerOptions {
  allow_hosts: readonly string[];
  timeout_ms: number;
  max_response_bytes: number;
}

const HttpParameters = z.object({
  url: z.url({ protocol: /^https?$/ }).describe("http(s) URL on a host of builtins.http.allow_hosts"),
  method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]).default("GET"),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional().describe("the request body, as text"),
});

/**
 * `http`: one request to an allow-listed host (`builtins.http.allow_hosts`, host or host:port),
 * with a timeout and a bounded response. 5xx and network errors are retried; 4xx are not.
 */
export function createHttpHandler(options: HttpHandlerOptions) {
  const allowed = new Set(options.allow_hosts.map((h) => h.toLowerCase()));
  return defineHandler({
    type: "http",
    description: `One HTTP request to an allowed host (${options.allow_hosts.join(", ") || "none allowed"})`,
    example: options.allow_hosts[0] === undefined ? undefined : { url: `http://${options.allow_hosts[0]}/` },
    parameters: HttpParameters.refine(
      (p) => {
        const url = new URL(p.url);
        return allowed.has(url.host.toLowerCase()) || allowed.has(url.hostname.toLowerCase());
      },
      { message: "host is not in builtins.http.allow_hosts", path: ["url"] },
    ),
    async run({ parameters, signal }) {
      const response = await fetch(parameters.url, {
        method: parameters.method,
        headers: parameters.headers,
        body: parameters.body ?? null,
        redirect: "manual",
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeout_ms)]),
      });
      const { text, truncated } = await readBounded(response, options.max_response_bytes);
      const result = { status: response.status, body: text, truncated };
      if (response.status >= 500) throw new Error(`http: ${parameters.url} answered ${response.status}`);
      if (response.status >= 400)
        throw new PermanentError(`http: ${parameters.url} answered ${response.status}`);
      return result;
    },
  });
}

async function readBounded(response: Response, limit: number): Promise<{ text: string; truncated: boolean }> {
  if (response.body === null) return { text: "", truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    const room = limit - size;
    if (chunk.byteLength > room) {
      chunks.push(chunk.subarray(0, room));
      truncated = true;
      break;
    }
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  return { text: Buffer.concat(chunks).toString("utf8"), truncated };
}
