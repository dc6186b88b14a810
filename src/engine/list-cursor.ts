import { TaskexecError } from "../protocol/errors.js";

/** Cursors are opaque to clients; inside, the submission order to continue before. */
export function encodeCursor(submitSeq: number): string {
  return Buffer.from(`s:${submitSeq}`).toString("base64url");
}

/** The submission order a cursor names; `validation_failed` for one this server did not issue. */
export function decodeCursor(cursor: string): number {
  const match = /^s:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (match === null) throw new TaskexecError("validation_failed", "cursor is not one this server issued");
  return Number(match[1]);
}
