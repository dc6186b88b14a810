import type { FastifyReply, FastifyRequest } from "fastify";
import type { CompiledOptions } from "../../config/options.js";
import type { TaskExecutor } from "../../engine/task-executor.js";
import type { ExecutorMetrics } from "../../observability/metrics.js";
import { sendError } from "../http-errors.js";

/** `/readyz`, for the API and for a worker: 200 when the store (and the broker) answer, else 503. */
export async function answerReadiness(executor: TaskExecutor, reply: FastifyReply) {
  try {
    await executor.checkReady();
    return { status: "ready" };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return sendError(reply, { status: 503, code: "resource_unavailable", message: `not ready: ${message}` });
  }
}

/** `/metrics` in Prometheus's text format, behind `metrics.token` when one is set. */
export async function answerMetrics(
  metrics: ExecutorMetrics,
  options: CompiledOptions,
  request: FastifyRequest,
  reply: FastifyReply,
) {
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
}
