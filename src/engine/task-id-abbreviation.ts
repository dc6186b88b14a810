import type { IdAbbreviation } from "../store/task-store.js";

/** The shortest prefix that is looked up as one: shorter ones match too much to be meant. */
export const MIN_ID_PREFIX = 8;

/**
 * Reads what a person may type for a task id besides the whole id: a prefix of at least
 * {@link MIN_ID_PREFIX} characters (`01a23b62`), or the dashboard's and CLI's short form, a prefix
 * and a suffix around an ellipsis (`01a23b62…15ba`, or `...` for the keyboard). Anything else is
 * `undefined`: it can only be a whole id.
 */
export function readIdAbbreviation(text: string): Omit<IdAbbreviation, "submitter"> | undefined {
  const [prefix, suffix, extra] = text.toLowerCase().split(/…|\.\.\./);
  if (extra !== undefined || prefix === undefined || prefix.length < MIN_ID_PREFIX) return undefined;
  if (!/^[0-9a-f-]+$/.test(prefix) || (suffix !== undefined && !/^[0-9a-f-]+$/.test(suffix)))
    return undefined;
  return suffix === undefined || suffix === "" ? { prefix } : { prefix, suffix };
}
