/**
 * Signs a message this process publishes on the broker, given its bytes as sent (without the
 * signature); resolves to the signature (see security/message-signature.ts).
 */
export type SignMessage = (message: string | Uint8Array, use?: { work?: boolean }) => Promise<string>;

/**
 * Whether `signature` is a valid, fresh signature of `message` by an executor (a worker, or the
 * api), not seen before unless the broker delivers the message again (`redelivered`). Work
 * (`work: true`) is signed to last while it waits in its queue, and may come again.
 */
export type VerifyMessage = (
  signature: string,
  message: string | Uint8Array,
  options: { redelivered: boolean; work?: boolean },
) => Promise<boolean>;

/**
 * The AMQP header that carries the signature of a message whose body has no field for it (a
 * heartbeat's protobuf, a work message); a `task_status` carries its own in `header.auth`.
 */
export const SIGNATURE_HEADER = "x-taskexec-signature";

/**
 * Why a message that must be signed is refused, or undefined when its signature holds. The
 * signature is read from {@link SIGNATURE_HEADER}.
 */
export async function refusalOf(
  verify: VerifyMessage,
  content: Buffer,
  headers: Record<string, unknown> | undefined,
  options: { redelivered: boolean; work?: boolean },
): Promise<string | undefined> {
  const signature = headers?.[SIGNATURE_HEADER];
  if (typeof signature !== "string" && !Buffer.isBuffer(signature))
    return `unauthenticated: the ${SIGNATURE_HEADER} header must hold an executor's signature`;
  try {
    if (await verify(String(signature), content, options)) return undefined;
    return `forbidden: ${SIGNATURE_HEADER} is not an executor's signature`;
  } catch (error) {
    return `unauthenticated: ${SIGNATURE_HEADER}: ${(error as Error).message}`;
  }
}
