import type { FastifyDynamicSwaggerOptions } from "@fastify/swagger";
import { jsonSchemaTransform } from "fastify-type-provider-zod";
import { ERROR_CODE_NAMES } from "../protocol/error-codes.js";
import { PROTOCOL_VERSION } from "../protocol/version.js";

/**
 * The error every operation may answer (`errorBody` in http-errors.ts): documented on each as its
 * `4XX` response, so that a client generated from the document knows the shape of a refusal.
 */
const ERROR_RESPONSE = {
  description:
    "Refused: 400 malformed, 401 no or a bad token, 403 a missing role, 404 not found, 409 a conflict, 413 too large, 422 rejected, 429 over a rate or quota (with Retry-After)",
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string", enum: [...ERROR_CODE_NAMES] },
        message: { type: "string" },
        details: { type: "object", additionalProperties: true },
      },
    },
  },
} as const;

/**
 * The OpenAPI document of the HTTP API (`GET /openapi.json`, `/docs`): the routes' own schemas,
 * the server, the licence, and the error answer on every operation. Linted in the tests with
 * Redocly's recommended rules (test/e2e/api-descriptions.test.ts).
 */
export const openApiOptions: FastifyDynamicSwaggerOptions = {
  openapi: {
    openapi: "3.1.0",
    info: {
      title: "taskexec",
      version: PROTOCOL_VERSION,
      description: "Task Execution Protocol over HTTP: submit tasks, watch their status, cancel them.",
      license: { name: "MIT", url: "https://opensource.org/license/mit" },
    },
    servers: [{ url: "/", description: "the server that serves this document" }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
    security: [{ bearer: [] }],
  },
  transform: (route) => {
    const transformed = jsonSchemaTransform(route);
    const schema = transformed.schema as { hide?: boolean; response?: Record<string, unknown> };
    if (schema.hide !== true)
      schema.response = {
        // A route that documents no answer of its own: its success, as its summary says.
        ...(schema.response === undefined && { "2xx": { description: "Done: as the summary says" } }),
        ...schema.response,
        "4xx": ERROR_RESPONSE,
      };
    return transformed;
  },
};
