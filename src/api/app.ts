import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import type { Logger } from "pino";
import { PROTOCOL_VERSION } from "../protocol/version.js";
import type { ApiContext } from "./api-context.js";
import { sendError, toHttpError } from "./http-errors.js";
import { dashboardRoutes } from "./routes/dashboard-routes.js";
import { submitRoutes } from "./routes/submit-routes.js";
import { systemRoutes } from "./routes/system-routes.js";
import { taskRoutes } from "./routes/task-routes.js";

export interface AppOptions {
  log: Logger;
  https?: { key: Buffer; cert: Buffer } | undefined;
}

/**
 * The HTTP API of SPEC §5 as a Fastify app, built apart from `listen` (tests use `inject` or a
 * real socket). Route schemas are the protocol's zod schemas, so OpenAPI and the contract agree.
 */
export async function buildApp(ctx: ApiContext, options: AppOptions): Promise<FastifyInstance> {
  // One app type whether it speaks HTTP or HTTPS, logging to our pino logger.
  const app = Fastify({
    loggerInstance: options.log,
    // Per-request lines would drown the engine's logs; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.options.http.body_limit,
    forceCloseConnections: true,
    ...(options.https && { https: { ...options.https, minVersion: "TLSv1.3" as const } }),
  }) as unknown as FastifyInstance;
  // JSON only: anything else is 415, not parsed as text.
  app.removeContentTypeParser(["text/plain"]);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => {
    const answer = toHttpError(error);
    if (answer.status >= 500) request.log.error({ err: error, url: request.url }, "request failed");
    return sendError(reply, answer);
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: "taskexec",
        version: PROTOCOL_VERSION,
        description: "Task Execution Protocol over HTTP: submit tasks, watch their status, cancel them.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, () => app.swagger());

  submitRoutes(app, ctx);
  taskRoutes(app, ctx);
  systemRoutes(app, ctx);
  await dashboardRoutes(app);
  return app;
}
