import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { openApiOptions } from "./openapi-document.js";
import type { Logger } from "pino";
import type { ApiContext } from "./api-context.js";
import { answerClientError, sendError, toHttpError } from "./http-errors.js";
import { registerJsonBodyParser } from "./json-body.js";
import { dashboardRoutes } from "./routes/dashboard-routes.js";
import { submitRoutes } from "./routes/submit-routes.js";
import { systemRoutes } from "./routes/system-routes.js";
import { taskRoutes } from "./routes/task-routes.js";

/** Routes under /v1/ that answer anyone: what they serve is public by nature. */
const PUBLIC_ROUTES = new Set(["/v1/keys"]);

export interface AppOptions {
  log: Logger;
  https?: { key: Buffer; cert: Buffer } | undefined;
}

/**
 * The HTTP API of SPEC §5 as a Fastify app, built apart from `listen` (tests use `inject` or a
 * real socket). Route schemas are the protocol's zod schemas, so OpenAPI and the contract agree.
 */
/** The answers logged as refusals (at warn): 401, 403, 413, 429. */
const REFUSALS: ReadonlySet<number> = new Set([401, 403, 413, 429]);

export async function buildApp(ctx: ApiContext, options: AppOptions): Promise<FastifyInstance> {
  // One app type whether it speaks HTTP or HTTPS, logging to our pino logger.
  const http = ctx.options.http;
  // Node's own limits on slow clients: the headers, and the whole request with its body, must
  // arrive in time (checked every second rather than Node's 30 s), else 408 and the socket closes.
  const timeouts = {
    headersTimeout: http.headers_timeout_ms,
    requestTimeout: http.request_timeout_ms,
    connectionsCheckingInterval: Math.min(1000, http.headers_timeout_ms),
  };
  const app = Fastify({
    loggerInstance: options.log,
    // Per-request lines would drown the engine's logs; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: http.body_limit,
    forceCloseConnections: true,
    requestTimeout: http.request_timeout_ms,
    keepAliveTimeout: http.keep_alive_timeout_ms,
    ...(options.https
      ? { https: { ...options.https, minVersion: "TLSv1.3" as const, ...timeouts } }
      : { http: timeouts }),
    // Errors Fastify meets before a route (a bad URL, …) and those Node meets before Fastify
    // (headers too large, a request too slow) answer in our shape too.
    frameworkErrors: (error, _request, reply) => {
      void sendError(reply, toHttpError(error));
    },
    clientErrorHandler: answerClientError,
  }) as unknown as FastifyInstance;
  // The token is checked on the headers, before any body is read (a slow body without a valid
  // token must not hold a socket), and the socket closes after the 401.
  app.addHook("onRequest", async (request, reply) => {
    if (!request.url.startsWith("/v1/") || PUBLIC_ROUTES.has(request.url)) return;
    try {
      await ctx.auth.identify(request);
    } catch (error) {
      void reply.header("connection", "close");
      throw error;
    }
  });
  // JSON only: anything else is 415, not parsed as text.
  app.removeContentTypeParser(["text/plain"]);
  registerJsonBodyParser(app);
  // No response is to be sniffed into something else by a browser (the dashboard's token is at stake).
  app.addHook("onSend", async (_request, reply) => {
    void reply.header("x-content-type-options", "nosniff");
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => {
    const answer = toHttpError(error);
    if (answer.status >= 500) request.log.error({ err: error, url: request.url }, "request failed");
    // A refusal (no or a bad token, a missing role, over a limit) says who, where and why; the
    // route's pattern, not the URL, so that nothing a client put in the path or query is logged.
    else if (REFUSALS.has(answer.status))
      void ctx.auth.identify(request).then(
        (principal) => logRefusal(principal.id),
        () => logRefusal(undefined),
      );
    function logRefusal(principal: string | undefined) {
      request.log.warn(
        {
          status: answer.status,
          code: answer.code,
          channel: "http",
          method: request.method,
          route: request.routeOptions.url,
          principal,
        },
        "request refused",
      );
    }
    return sendError(reply, answer);
  });

  await app.register(fastifySwagger, openApiOptions);
  await app.register(fastifySwaggerUi, {
    routePrefix: "/docs",
    // The UI's own CSP (hashes of its inline scripts), framed by no one, and no upgrade to HTTPS
    // (the server may speak plain HTTP on loopback).
    staticCSP: true,
    transformStaticCSP: (header) =>
      header
        .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
        .replace(/\s*upgrade-insecure-requests;?/, ""),
  });
  app.get("/openapi.json", { schema: { hide: true } }, () => app.swagger());

  submitRoutes(app, ctx);
  taskRoutes(app, ctx);
  systemRoutes(app, ctx);
  await dashboardRoutes(app);
  return app;
}
