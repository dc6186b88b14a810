import type { FastifyInstance } from "fastify";
import secureJson from "secure-json-parse";

/** A request body that cannot be taken: 400, with what is wrong in the message. */
export class BadBodyError extends Error {
  override readonly name = "BadBodyError";
  readonly statusCode = 400;
}

/**
 * Parses JSON bodies, refusing `__proto__` and `constructor.prototype` keys (prototype poisoning)
 * and saying so, where Fastify's own parser answers "not valid JSON" for every problem.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      done(new BadBodyError("the body is empty but says it is JSON"), undefined);
      return;
    }
    try {
      done(null, secureJson.parse(text, null, { protoAction: "error", constructorAction: "error" }));
    } catch (error) {
      const message = (error as Error).message;
      done(
        new BadBodyError(
          /forbidden prototype property/.test(message)
            ? 'the body has a "__proto__" key, which is refused (prototype poisoning): rename it'
            : /forbidden constructor property/.test(message)
              ? 'the body has a "constructor" key holding a "prototype", which is refused (prototype poisoning)'
              : `the body is not valid JSON: ${message}`,
        ),
        undefined,
      );
    }
  });
}
