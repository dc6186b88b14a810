import { join } from "node:path";
import { SignJWT } from "jose";
import { type Service, startService } from "../../src/api/service.js";
import { compileOptions, type ExecutorOptions } from "../../src/config/options.js";
import type { Role } from "../../src/security/roles.js";
import { signToken } from "../../src/security/token-signer.js";
import { tempDir } from "./temp.js";

export const TEST_SECRET = "test-secret-test-secret-test-secret-0123";

export interface ServiceHarness {
  service: Service;
  url: string;
  dataDir: string;
  token(sub: string, roles: Role[], ttl?: string): Promise<string>;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  cleanup(): Promise<void>;
}

export interface CallOptions {
  token?: string | undefined;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** The real service (executor + HTTP API) on a random port, with a known signing secret. */
export async function startTestService(overrides: ExecutorOptions = {}): Promise<ServiceHarness> {
  const tmp = tempDir();
  const service = await startService(
    compileOptions({
      data_dir: tmp.dir,
      store: { url: `sqlite:${join(tmp.dir, "taskexec.db")}` },
      http: { port: 0 },
      auth: { jwt_secret: TEST_SECRET },
      logging: { level: "silent" },
      retry: { base_ms: 20, max_ms: 100 },
      resources: { cpu: 4, memory_mb: 4096, gpu: 1 },
      ...overrides,
    }),
  );
  const call = async (method: string, path: string, options: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    const response = await fetch(`${service.url}${path}`, { method, headers, body: body ?? null });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics, HTML): keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
  return {
    service,
    url: service.url,
    dataDir: tmp.dir,
    token: (sub, roles, ttl = "1h") => signToken(TEST_SECRET, { sub, roles, ttl }),
    call,
    cleanup: async () => {
      await service.close(0);
      tmp.remove();
    },
  };
}

/** A submit_task message. */
export function submitMessage(
  type: string,
  parameters: Record<string, unknown> = {},
  extra: {
    messageId?: string;
    priority?: number;
    requirements?: Record<string, number>;
    maxAttempts?: number;
  } = {},
) {
  return {
    type: "submit_task",
    header: { message_id: extra.messageId ?? crypto.randomUUID(), timestamp: new Date().toISOString() },
    body: {
      task_specification: {
        type,
        parameters,
        ...(extra.requirements && { requirements: extra.requirements }),
        ...(extra.maxAttempts !== undefined && { max_attempts: extra.maxAttempts }),
      },
      priority: extra.priority ?? 5,
    },
  };
}

/** Tokens a correct server must refuse, by what is wrong with them. */
export async function badTokens(): Promise<Record<string, string>> {
  const key = new TextEncoder().encode(TEST_SECRET);
  const now = Math.floor(Date.now() / 1000);
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return {
    expired: await new SignJWT({ roles: ["admin"] })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("a")
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(key),
    "bad signature": await new SignJWT({ roles: ["admin"] })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("a")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-another-secret-another-1")),
    "alg none": `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "a", roles: ["admin"], exp: now + 3600 })}.`,
    "no exp": await new SignJWT({ roles: ["admin"] })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("a")
      .sign(key),
    garbage: "not-a-jwt",
  };
}
