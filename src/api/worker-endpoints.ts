import Fastify, { type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { CompiledOptions } from "../config/options.js";
import type { TaskExecutor } from "../engine/task-executor.js";
import type { ExecutorMetrics } from "../observability/metrics.js";
import { answerClientError, sendError, toHttpError } from "./http-errors.js";
import { answerMetrics, answerReadiness } from "./routes/probes.js";

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
  app.get("/readyz", (_request, reply) => answerReadiness(executor, reply));
  app.get("/metrics", (request, reply) => answerMetrics(metrics, options, request, reply));
  return app;
}
