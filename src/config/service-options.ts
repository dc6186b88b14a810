import { isDataKey } from "../security/data-cipher.js";
import { z } from "zod";

/** A data key for encryption at rest: 32 random bytes in base64. */
const DataKey = z
  .string()
  .refine(isDataKey, "must be 32 random bytes in base64 (taskexec keys new prints one)");

/** The keys of `config.yaml` that only the service (`taskexec serve`, `api`) uses. */
export const ServiceOptionsShape = {
  /** Where generated files live: the JWT secret, the local CLI token, the default database. @default "data" */
  data_dir: z.string().min(1).default("data"),
  http: z
    .strictObject({
      /** The address to listen on; beyond loopback only with auth. @default "127.0.0.1" */
      host: z.string().min(1).default("127.0.0.1"),
      /** The port to listen on (0: any free one). @default 8080 */
      port: z.int().min(0).max(65_535).default(8080),
      /** Largest request body in bytes; larger is refused with 413. @default 1048576 */
      body_limit: z
        .int()
        .min(1024)
        .max(64 * 1024 * 1024)
        .default(1024 * 1024),
      /** A page of `GET /v1/tasks` stops before the row that would take it past this many bytes. @default 1048576 */
      list_max_bytes: z
        .int()
        .min(1024)
        .default(1024 * 1024),
      /** A request's headers must all arrive within this; else 408 and the socket closes. @default 10000 */
      headers_timeout_ms: z.int().min(100).default(10_000),
      /** A whole request, body included, must arrive within this; else 408 and the socket closes. @default 30000 */
      request_timeout_ms: z.int().min(100).default(30_000),
      /** An idle kept-alive connection closes after this. @default 5000 */
      keep_alive_timeout_ms: z.int().min(100).default(5000),
      /** A comment line on open status streams this often, so proxies keep them open. @default 15000 */
      sse_keepalive_ms: z.int().min(100).default(15_000),
      /** Open event streams (SSE) at once; beyond, 429. @default 1000 */
      max_streams: z.int().min(1).default(1000),
      /** Open event streams of one principal; beyond, 429. @default 20 */
      max_streams_per_principal: z.int().min(1).default(20),
      /** Bytes a stream may hold that its client has not read; past this the client is dropped. @default 262144 */
      stream_buffer_bytes: z
        .int()
        .min(16 * 1024)
        .default(256 * 1024),
      /** How long a stream may wait for its client to read before the client is dropped. @default 30000 */
      stream_stall_ms: z.int().min(100).default(30_000),
    })
    .refine((h) => h.headers_timeout_ms <= h.request_timeout_ms, {
      message: "must not be longer than http.request_timeout_ms",
      path: ["headers_timeout_ms"],
    })
    .prefault({}),
  /** `taskexec worker` only: where its `/healthz`, `/readyz` and `/metrics` answer (the api's are `http.*`). */
  worker: z
    .strictObject({
      /** The address to listen on. @default http.host */
      host: z.string().min(1).optional(),
      /**
       * The port (0: any free one). When this default is taken (a second worker on the host), a
       * free port is used and printed; a port set here, or with `--port`, must be free. @default 8081
       */
      port: z.int().min(0).max(65_535).optional(),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** Off only for local experiments: every request is then an admin. Refused off loopback. @default true */
      enabled: z.boolean().default(true),
      /** HS256 secret (≥ 32 characters). Generated into data_dir on the first `serve` if unset. */
      jwt_secret: z.string().min(32, "must be at least 32 characters").optional(),
      /** A PEM public key (RS256 / ES256) to verify tokens with. */
      public_key: z.string().min(1).optional(),
      /** A JWKS URL to verify tokens with. */
      jwks_url: z.url().optional(),
      /** When set, tokens must carry this `iss`. */
      issuer: z.string().min(1).optional(),
      /** When set, tokens must carry this `aud`. */
      audience: z.string().min(1).optional(),
      /** Allowed clock skew for `exp` / `nbf`, in seconds. @default 5 */
      clock_tolerance_s: z.int().min(0).max(300).default(5),
    })
    .prefault({}),
  security: z
    .strictObject({
      /**
       * A PEM (PKCS#8) Ed25519 private key file the cluster's processes sign what they publish on
       * the broker with (`openssl genpkey -algorithm ed25519`). Unset: derived from
       * `auth.jwt_secret`, so that every process holding the secret signs alike. Needed in
       * distributed mode when tokens are checked with a public key or a JWKS instead.
       */
      signing_key_file: z.string().min(1).optional(),
      /**
       * How old a signed message from the broker may be (a status, a heartbeat), in ms; older, or
       * one whose signature was seen before, is refused as a replay. Signatures are made to last
       * this long: the same on every process. Raise it when a reader may fall further behind its
       * queue; the last 200,000 signature ids are remembered. @default 120000
       */
      message_window_ms: z.int().min(1_000).max(600_000).default(120_000),
      /**
       * The executors' RSA keys for message-level encryption: a private JWKS file (`{"keys": [...]}`,
       * current key first), the same on every process that admits submissions. Unset: generated
       * into `data_dir/encryption-keys.json` (mode 0600) on the first start of `serve` or `api`
       * (through the library: the first time a key is asked for).
       * `taskexec keys rotate --encryption` adds a new current key to it.
       */
      encryption_key_file: z.string().min(1).optional(),
      /** Refuse a `task_specification` sent in clear: only JWE ones are accepted. @default false */
      require_encryption: z.boolean().default(false),
      /**
       * Encryption at rest: 32 random bytes in base64 (`taskexec keys new` prints some). Task
       * parameters, results, errors, status details and audit payloads are then stored as
       * AES-256-GCM, each with its key's id and bound to its task. The same on every process of a
       * store. Unset (and no `data_key_file`): stored in clear.
       */
      data_key: DataKey.optional(),
      /** A file holding the data key (its first line), and older keys still to be read (the other lines). */
      data_key_file: z.string().min(1).optional(),
      /**
       * Older data keys, still read (base64): after a rotation, until `taskexec keys rotate --data`
       * has resealed everything under `data_key`.
       */
      previous_data_keys: z.array(DataKey).optional(),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** Submissions per principal per minute (token bucket; bursts up to this many). @default 6000 */
      submit_per_minute: z.int().min(1).default(6000),
      /** Unfinished tasks a principal may have at once. @default unlimited */
      max_active_tasks: z.int().min(1).optional(),
      /** Resources a principal's unfinished tasks may ask for in total, per kind. @default unlimited */
      max_resources: z.record(z.string(), z.number().min(0)).optional(),
    })
    .prefault({}),
  tls: z
    .strictObject({
      /** PEM certificate file; with `key`, the server speaks HTTPS (TLS 1.3 minimum). */
      cert: z.string().min(1).optional(),
      /** PEM private key file of `cert`. */
      key: z.string().min(1).optional(),
    })
    .refine((t) => (t.cert === undefined) === (t.key === undefined), "tls.cert and tls.key go together")
    .prefault({}),
  metrics: z
    .strictObject({
      /** When set, `GET /metrics` needs `Authorization: Bearer <token>`. */
      token: z.string().min(1).optional(),
    })
    .prefault({}),
  /** The RabbitMQ URL of distributed mode (SPEC §4): `taskexec api` and `taskexec worker` need it (`amqps://` for TLS). */
  message_broker_url: z.string().min(1).optional(),
  /**
   * TLS to the broker (`amqps://`): the broker's certificate is checked against `ca` (else the
   * system's CAs) and its name; `cert` and `key` (PEM files) are this process's client certificate,
   * for a broker that asks for one (`ssl_options.fail_if_no_peer_cert`).
   */
  message_broker_tls: z
    .strictObject({
      /** PEM file of the CA(s) that signed the broker's certificate. */
      ca: z.string().min(1).optional(),
      /** PEM client certificate file. */
      cert: z.string().min(1).optional(),
      /** PEM private key file of `cert`. */
      key: z.string().min(1).optional(),
    })
    .refine(
      (t) => (t.cert === undefined) === (t.key === undefined),
      "message_broker_tls.cert and message_broker_tls.key go together",
    )
    .prefault({}),
};
