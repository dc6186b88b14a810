import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiContext } from "../api-context.js";
import { sendError } from "../http-errors.js";

export function systemRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    "/v1/resources",
    { schema: { summary: "Per node: capacity, allocated, free, tasks, heartbeat", tags: ["system"] } },
    async (request) => {
      await ctx.auth.authenticate(request, "monitor_task");
      const now = new Date().toISOString();
      return { nodes: ctx.executor.resources().map((n) => ({ ...n, last_heartbeat: now, alive: true })) };
    },
  );

  api.get(
    "/v1/audit",
    {
      schema: {
        summary: "The audit trail (admin): every submission and cancel, with principal and decision",
        tags: ["system"],
        querystring: z.object({
          task_id: z.string().min(1).optional(),
          principal: z.string().min(1).optional(),
          since: z.iso.datetime({ offset: true }).optional(),
          after: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      await ctx.auth.authenticate(request, "admin");
      const q = request.query;
      const entries = await ctx.executor.queryAudit({
        taskId: q.task_id,
        principal: q.principal,
        since: q.since === undefined ? undefined : Date.parse(q.since),
        afterId: q.after,
        limit: q.limit,
      });
      const last = entries[entries.length - 1];
      return {
        entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
        next_after: entries.length === q.limit && last !== undefined ? last.id : null,
      };
    },
  );

  api.get(
    "/metrics",
    { schema: { summary: "Prometheus metrics", tags: ["system"] } },
    async (request, reply) => {
      const token = ctx.options.metrics.token;
      if (token !== undefined && request.headers.authorization !== `Bearer ${token}`) {
        return sendError(reply, {
          status: 401,
          code: "unauthenticated",
          message: "metrics need Authorization: Bearer <metrics.token>",
        });
      }
      const text = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  );

  api.get("/healthz", { schema: { summary: "Liveness", tags: ["system"] } }, () => ({ status: "ok" }));

  api.get(
    "/readyz",
    { schema: { summary: "Readiness: the store answers", tags: ["system"] } },
    async (_request, reply) => {
      try {
        await ctx.executor.checkReady();
        return { status: "ready" };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return sendError(reply, {
          status: 503,
          code: "resource_unavailable",
          message: `not ready: ${message}`,
        });
      }
    },
  );

  api.get("/", { schema: { hide: true } }, (_request, reply) =>
    reply
      .type("text/html; charset=utf-8")
      .send(
        '<!doctype html><meta charset="utf-8"><title>taskexec</title><h1>taskexec</h1>' +
          '<p><a href="/docs">API documentation</a> · <a href="/openapi.json">OpenAPI</a> · ' +
          '<a href="/healthz">health</a> · <a href="/metrics">metrics</a></p>',
      ),
  );

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, {
      status: 404,
      code: "not_found",
      message: `no route ${request.method} ${request.url.split("?")[0]}`,
    }),
  );
}
