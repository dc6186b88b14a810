import type { IdAbbreviation } from "../store/task-store.js";

/** The shortest prefix or suffix that is looked up as one: shorter ones match too much to be meant. */
export const MIN_ID_PREFIX = 8;

/**
 * Reads what a person may type for a task id besides the whole id, as the abbreviations it may
 * stand for: 8 or more characters are the id's start (`01a23b62`) or its end (`9f1015ba`, the
 * random part: ids made in the same minute share their start); the dashboard's short form is a
 * start and an end around an ellipsis (`01a23b62…9f1015ba`, or `...` for the keyboard), and
 * `…9f1015ba` an end alone. Empty for anything else: it can only be a whole id.
 */
export function readIdAbbreviation(text: string): Omit<IdAbbreviation, "submitter">[] {
  const [prefix, suffix, extra] = text.toLowerCase().split(/…|\.\.\./);
  const hex = (part: string) => /^[0-9a-f-]+$/.test(part);
  if (extra !== undefined || prefix === undefined) return [];
  if (suffix === undefined || suffix === "") {
    if (prefix.length < MIN_ID_PREFIX || !hex(prefix)) return [];
    return [{ prefix }, { prefix: "", suffix: prefix }];
  }
  if (!hex(suffix) || (prefix !== "" && !hex(prefix))) return [];
  if (prefix.length < MIN_ID_PREFIX && suffix.length < MIN_ID_PREFIX) return [];
  return [{ prefix, suffix }];
}
