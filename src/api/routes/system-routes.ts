import type { FastifyInstance } from "fastify";
import { answerMetrics, answerReadiness } from "./probes.js";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { ACTIVITY_WINDOW_S } from "../../observability/recent-activity.js";
import { isErrorCode } from "../../protocol/error-codes.js";
import type { AuditEntry } from "../../domain/records.js";
import { PROTOCOL_VERSION } from "../../protocol/version.js";
import { RESEAL_STAGES } from "../../store/reseal.js";
import { can, seesAllTasks } from "../../security/roles.js";
import { type ApiContext, asReader } from "../api-context.js";
import { sendError } from "../http-errors.js";

export function systemRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    "/v1/session",
    {
      schema: {
        operationId: "getSession",
        summary: "Who the token speaks for, what it may do, and the task types this server runs",
        tags: ["system"],
      },
    },
    async (request) => {
      const principal = await ctx.auth.authenticate(request, "monitor_task");
      return {
        principal: principal.id,
        roles: principal.roles,
        may: {
          submit: can(principal, "submit_task"),
          see_all_tasks: seesAllTasks(principal),
          admin: can(principal, "admin"),
        },
        task_types: ctx.executor.handlerTypes(),
        protocol_version: PROTOCOL_VERSION,
      };
    },
  );

  api.get(
    "/v1/keys",
    {
      schema: {
        operationId: "getKeys",
        summary:
          "The cluster's public keys (a JWKS, no token needed): `use: sig` checks the signatures of what the api and the workers publish on the broker; `use: enc` (current first, older ones while they still decrypt) is what a task_specification is encrypted for (JWE, RSA-OAEP-256 + A256GCM)",
        tags: ["system"],
        security: [],
      },
    },
    async (_request, reply) => {
      // Keys change only with the configuration; a client may keep them a while.
      void reply.header("cache-control", "public, max-age=300");
      return { keys: await ctx.publicKeys() };
    },
  );

  api.post(
    "/v1/keys/reseal",
    {
      schema: {
        operationId: "resealData",
        summary:
          "One step of resealing what is stored under the current data key (admin; `taskexec keys rotate --data` calls it " +
          "until `cursor` comes back null): values stored in clear or under an older key are sealed again",
        tags: ["system"],
        body: z.object({
          cursor: z
            .object({
              stage: z.enum(RESEAL_STAGES),
              after: z.union([z.number().int(), z.tuple([z.string(), z.number().int()]), z.null()]),
            })
            .nullable()
            .default(null),
          limit: z.number().int().min(1).max(10_000).default(500),
        }),
      },
    },
    async (request, reply) => {
      await ctx.auth.authenticate(request, "admin");
      const { security } = ctx.options;
      if (security.data_key === undefined && security.data_key_file === undefined)
        return sendError(reply, {
          status: 409,
          code: "validation_failed",
          message:
            "no data key is configured (security.data_key or security.data_key_file): there is nothing to seal with",
        });
      const { cursor, limit } = request.body;
      return ctx.executor.resealStored(cursor, limit);
    },
  );

  api.get(
    "/v1/types",
    {
      schema: {
        operationId: "listTypes",
        summary:
          "The task types this server runs, each with its description, its parameters' JSON Schema and an example",
        tags: ["system"],
      },
    },
    async (request) => {
      await ctx.auth.authenticate(request, "monitor_task");
      return { types: ctx.executor.describeTypes() };
    },
  );

  api.get(
    "/v1/stats",
    {
      schema: {
        operationId: "getStats",
        summary:
          "The last 15 minutes of your tasks (admins and executors: all) in steps: submissions, completions, " +
          "failures per second, error rate, and wait and execution time percentiles (ms); `window`: the same over all 15 minutes",
        tags: ["system"],
        querystring: z.object({ step: z.coerce.number().int().min(1).max(ACTIVITY_WINDOW_S).default(5) }),
      },
    },
    async (request) => {
      const reader = asReader(await ctx.auth.authenticate(request, "monitor_task"));
      const step = request.query.step;
      const submitter = reader.admin ? undefined : reader.id;
      return { step, points: ctx.activity.series(step, submitter), window: ctx.activity.window(submitter) };
    },
  );

  api.get(
    "/v1/resources",
    {
      schema: {
        operationId: "listResources",
        summary:
          "Per node: capacity, allocated, free, running and waiting tasks (a submitter: its own), heartbeat",
        tags: ["system"],
      },
    },
    async (request) => {
      const reader = asReader(await ctx.auth.authenticate(request, "monitor_task"));
      const nodes = (await ctx.executor.nodes()).map((n) => ({
        ...n.resources,
        last_heartbeat: new Date(n.heartbeatAt).toISOString(),
        alive: n.alive,
      }));
      if (reader.admin) return { nodes };
      // A submitter sees the nodes' capacity, but of the tasks on them only its own.
      const own = await ctx.executor.countTasks(reader);
      // (Its counts are the cluster's: they are shown once, on the first node.)
      return {
        nodes: nodes.map((n, i) => ({
          ...n,
          running: i === 0 ? (own.executing ?? 0) : 0,
          waiting: i === 0 ? (own.waiting ?? 0) : 0,
        })),
      };
    },
  );

  api.get(
    "/v1/audit",
    {
      schema: {
        operationId: "listAudit",
        summary:
          "The audit trail (admin): every submission and cancel, with principal, decision, its code and reason; " +
          "newest first (order=oldest: oldest first), a page at a time",
        tags: ["system"],
        querystring: z.object({
          task_id: z.string().min(1).optional(),
          principal: z.string().min(1).optional(),
          since: z.iso.datetime({ offset: true }).optional(),
          order: z.enum(["newest", "oldest"]).default("newest"),
          before: z.coerce.number().int().min(0).optional().describe("newest first: the page before this id"),
          after: z.coerce.number().int().min(0).optional().describe("oldest first: the page after this id"),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      await ctx.auth.authenticate(request, "admin");
      const q = request.query;
      const newestFirst = q.order === "newest";
      const entries = await ctx.executor.queryAudit({
        taskId: q.task_id,
        principal: q.principal,
        since: q.since === undefined ? undefined : Date.parse(q.since),
        newestFirst,
        beforeId: q.before,
        afterId: q.after,
        limit: q.limit,
      });
      const last = entries[entries.length - 1];
      const more = entries.length === q.limit && last !== undefined;
      return {
        entries: entries.map(auditView),
        next_before: newestFirst && more ? last.id : null,
        next_after: !newestFirst && more ? last.id : null,
      };
    },
  );

  api.get(
    "/metrics",
    { schema: { operationId: "getMetrics", summary: "Prometheus metrics", tags: ["system"] } },
    (request, reply) => answerMetrics(ctx.metrics, ctx.options, request, reply),
  );

  api.get(
    "/healthz",
    {
      schema: {
        operationId: "getHealth",
        summary: "Liveness, and whether the API asks for a token (the dashboard's first question)",
        tags: ["system"],
      },
    },
    () => ({ status: "ok", auth: ctx.options.auth.enabled }),
  );

  api.get(
    "/readyz",
    { schema: { operationId: "getReadiness", summary: "Readiness: the store answers", tags: ["system"] } },
    (_request, reply) => answerReadiness(ctx.executor, reply),
  );

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, {
      status: 404,
      code: "not_found",
      message: `no route ${request.method} ${request.url.split("?")[0]}`,
    }),
  );
}

/**
 * An audit record as the API shows it: snake_case like every other answer, with the error code
 * of a refusal and the reason of a cancel read out of the payload.
 */
function auditView(entry: AuditEntry) {
  const payload = (entry.payload ?? {}) as {
    code?: unknown;
    reason?: unknown;
    errors?: { message?: unknown }[];
  };
  const code =
    typeof payload.code === "string"
      ? payload.code
      : isErrorCode(entry.decision) && entry.decision !== "cancelled"
        ? entry.decision // a refusal before validation: rate_limited, quota_exceeded, …
        : null;
  const firstError = Array.isArray(payload.errors) ? payload.errors[0]?.message : undefined;
  const reason =
    typeof payload.reason === "string" ? payload.reason : typeof firstError === "string" ? firstError : null;
  return {
    id: entry.id,
    at: new Date(entry.at).toISOString(),
    principal: entry.principal,
    action: entry.action,
    message_id: entry.messageId,
    task_id: entry.taskId,
    decision: entry.decision,
    code: entry.decision === "malformed" && code === null ? "validation_failed" : code,
    reason,
    payload: entry.payload ?? null,
  };
}
