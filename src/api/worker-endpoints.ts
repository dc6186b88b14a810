import Fastify, { type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { CompiledOptions } from "../config/options.js";
import type { TaskExecutor } from "../engine/task-executor.js";
import type { ExecutorMetrics } from "../observability/metrics.js";
import { answerClientError, sendError, toHttpError } from "./http-errors.js";

/**
 * The little HTTP a worker answers (SPEC §4): liveness, readiness (the store and the broker) and
 * its metrics. No API: tasks come in at the api processes.
 */
export function buildWorkerApp(context: {
  executor: TaskExecutor;
  metrics: ExecutorMetrics;
  options: CompiledOptions;
  log: Logger;
}): FastifyInstance {
  const { executor, metrics, options, log } = context;
  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    frameworkErrors: (error, _request, reply) => {
      void sendError(reply, toHttpError(error));
    },
    clientErrorHandler: answerClientError,
  }) as unknown as FastifyInstance;
  app.setErrorHandler((error, _request, reply) => sendError(reply, toHttpError(error)));
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, {
      status: 404,
      code: "not_found",
      message: `a worker answers only /healthz, /readyz and /metrics (not ${request.url}); the API is on the api processes`,
    }),
  );
  app.get("/healthz", () => ({ status: "ok", role: "worker", node: executor.node }));
  app.get("/readyz", async (_request, reply) => {
    try {
      await executor.checkReady();
      return { status: "ready" };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return sendError(reply, {
        status: 503,
        code: "resource_unavailable",
        message: `not ready: ${message}`,
      });
    }
  });
  app.get("/metrics", async (request, reply) => {
    const token = options.metrics.token;
    if (token !== undefined && request.headers.authorization !== `Bearer ${token}`) {
      return sendError(reply, {
        status: 401,
        code: "unauthenticated",
        message: "metrics need Authorization: Bearer <metrics.token>",
      });
    }
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
  return app;
}
