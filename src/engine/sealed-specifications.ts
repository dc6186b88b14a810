import type { ValidationIssue } from "../protocol/issues.js";

/** What admission needs of the executors' keys (`GET /v1/keys`): to open a JWE made for one. */
export interface SpecificationKeys {
  /** The plaintext; throws an error whose message may be told to the submitter when it cannot. */
  decrypt(jwe: string): Promise<Uint8Array>;
}

/** A batch with its encrypted specifications opened: the messages, and why some could not be. */
export interface OpenedBatch {
  messages: readonly unknown[];
  /** By index: why that message's specification was refused (it is rejected, nothing stored). */
  issues: ReadonlyMap<number, ValidationIssue>;
}

const PATH = "body.task_specification";

/**
 * Whether a batch has anything to open (or to refuse for being in clear): submissions in clear,
 * where clear is allowed, pass through without a turn of the event loop.
 */
export function needsOpening(messages: readonly unknown[], requireEncryption: boolean): boolean {
  return requireEncryption || messages.some((m) => typeof specificationOf(m) === "string");
}

/**
 * Message-level encryption at admission (SPEC §6): a `task_specification` sent as a JWE compact
 * string (`RSA-OAEP-256`, `A256GCM`, for a key of `GET /v1/keys`) is replaced by the JSON it
 * encrypts before validation, so that validation, the store and the handlers see the plaintext
 * and never know. One that cannot be opened, or a plaintext one where `security.require_encryption`
 * asks for encryption, gets an issue instead: the message is rejected (and audited with the
 * reason), and nothing of it is stored.
 */
export async function openSpecifications(
  messages: readonly unknown[],
  keys: SpecificationKeys | undefined,
  requireEncryption: boolean,
): Promise<OpenedBatch> {
  const issues = new Map<number, ValidationIssue>();
  const opened = await Promise.all(
    messages.map(async (message, index) => {
      const specification = specificationOf(message);
      if (typeof specification !== "string") {
        if (requireEncryption && specification !== undefined)
          issues.set(index, {
            path: PATH,
            code: "validation_failed",
            message:
              "this executor accepts only encrypted task specifications: send a JWE compact string (RSA-OAEP-256, A256GCM) made for a key of GET /v1/keys",
          });
        return message;
      }
      if (keys === undefined) return message;
      let plaintext: unknown;
      try {
        plaintext = JSON.parse(new TextDecoder().decode(await keys.decrypt(specification)));
      } catch (error) {
        const reason = error instanceof SyntaxError ? "its plaintext is not JSON" : (error as Error).message;
        issues.set(index, { path: PATH, code: "validation_failed", message: `cannot decrypt: ${reason}` });
        return message;
      }
      if (typeof plaintext !== "object" || plaintext === null || Array.isArray(plaintext)) {
        issues.set(index, {
          path: PATH,
          code: "validation_failed",
          message: "the decrypted task specification must be a JSON object",
        });
        return message;
      }
      const { body } = message as { body: Record<string, unknown> };
      return { ...(message as object), body: { ...body, task_specification: plaintext } };
    }),
  );
  return { messages: opened, issues };
}

function specificationOf(message: unknown): unknown {
  const body =
    typeof message === "object" && message !== null ? (message as { body?: unknown }).body : undefined;
  return typeof body === "object" && body !== null
    ? (body as { task_specification?: unknown }).task_specification
    : undefined;
}
