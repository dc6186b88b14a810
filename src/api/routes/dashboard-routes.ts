import { existsSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

const here = dirname(fileURLToPath(import.meta.url));
/** Where `npm run build` puts the dashboard: dist/dashboard, seen from dist/src/api/routes or src/api/routes. */
const CANDIDATES = [join(here, "../../../dashboard"), join(here, "../../../dist/dashboard")];

/** The page's own files only: no inline scripts, no other origins (the token lives in this page). */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // uPlot sizes its canvases with style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/** The dashboard (`GET /`): the static build of `ui/`, or a note on how to build it. */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const root = CANDIDATES.find((dir) => existsSync(join(dir, "index.html")));
  if (root === undefined) {
    app.get("/", { schema: { hide: true } }, (_request, reply) =>
      reply
        .type("text/html; charset=utf-8")
        .send(
          '<!doctype html><meta charset="utf-8"><title>taskexec</title><h1>taskexec</h1>' +
            "<p>The dashboard is not built: run <code>npm run build</code>.</p>" +
            '<p><a href="/docs">API documentation</a> · <a href="/openapi.json">OpenAPI</a></p>',
        ),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: "/",
    // A missing file falls through to the API's JSON 404 (the not-found handler).
    decorateReply: false,
    index: "index.html",
    cacheControl: false, // set below, per file
    setHeaders(res, path) {
      res.setHeader("content-security-policy", CONTENT_SECURITY_POLICY);
      res.setHeader("x-content-type-options", "nosniff");
      res.setHeader("referrer-policy", "no-referrer");
      // Hashed asset names may be cached for good; the page itself must be revalidated.
      res.setHeader(
        "cache-control",
        path.includes(`${sep}assets${sep}`) ? "public, max-age=31536000, immutable" : "no-cache",
      );
    },
  });
}
