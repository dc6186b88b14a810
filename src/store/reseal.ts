import type { ValueSeal } from "./sealed-values.js";
import { auditOwner } from "./stored-rows.js";

/** The kinds of stored rows that hold sealed values, in the order a reseal goes through them. */
export const RESEAL_STAGES = ["tasks", "statuses", "audit"] as const;
export type ResealStage = (typeof RESEAL_STAGES)[number];

/** Where a reseal is: the kind of row, and the last row of it looked at (in key order). */
export interface ResealCursor {
  stage: ResealStage;
  /** The key of the last row looked at: a task's submission number, a status's [task id, sequence], an audit id. */
  after: number | [string, number] | null;
}

/** One step's outcome: how many values it rewrote, and where to go on (null: done). */
export interface ResealStep {
  rewritten: number;
  cursor: ResealCursor | null;
}

/**
 * A stored row with sealed values: its key (for the cursor and the rewrite), the owner its values
 * are bound to, its columns' stored texts, and for audit records its task and principal.
 */
export interface SealedRow {
  key: number | [string, number];
  owner: string;
  values: (string | null)[];
}

/**
 * The columns each stage's select returns, named alike on every backend (select_reseal_*.sql):
 * tasks `submit_seq, id, parameters, result, error`; statuses `task_id, sequence, details`;
 * audit `id, task_id, principal, payload`.
 */
export type ResealColumns = Record<string, unknown>;

/** A selected row as a reseal sees it: its key, the owner its values are bound to, its values. */
export function sealedRow(stage: ResealStage, r: ResealColumns): SealedRow {
  if (stage === "tasks")
    return {
      key: Number(r.submit_seq),
      owner: r.id as string,
      values: [r.parameters as string, r.result as string | null, r.error as string | null],
    };
  if (stage === "statuses")
    return {
      key: [r.task_id as string, Number(r.sequence)],
      owner: r.task_id as string,
      values: [r.details as string],
    };
  return {
    key: Number(r.id),
    owner: auditOwner(r.task_id as string | null, r.principal as string),
    values: [r.payload as string],
  };
}

/** What a backend offers a reseal: read rows after a key, and rewrite a value only if unchanged. */
export interface SealedRowsAccess {
  /** Up to `limit` rows of `stage` after `after` whose values are not all sealed with `prefix`, in key order. */
  read(
    stage: ResealStage,
    after: ResealCursor["after"],
    limit: number,
    prefix: string,
  ): Promise<ResealColumns[]>;
  /**
   * Writes each row's new values where the stored ones are still the old ones (compare and set:
   * a value a writer changed meanwhile is left to it, sealed anew already). Returns how many were.
   */
  rewrite(
    stage: ResealStage,
    rows: readonly { row: SealedRow; values: (string | null)[] }[],
  ): Promise<number>;
}

/**
 * One step of `taskexec keys rotate --data`: reads the next rows holding values not sealed under
 * the current data key (sealed under an older one, or stored in clear before a key was set),
 * opens and seals them again, and writes them back where no one changed them meanwhile. Runs
 * while the system runs: every step is a short read and one short write.
 */
export async function resealStep(
  access: SealedRowsAccess,
  seal: ValueSeal,
  cursor: ResealCursor | null,
  limit: number,
): Promise<ResealStep> {
  if (seal.currentPrefix === "") throw new TypeError("no data key is configured: nothing to seal with");
  let at: ResealCursor = cursor ?? { stage: RESEAL_STAGES[0], after: null };
  for (;;) {
    const rows = (await access.read(at.stage, at.after, limit, seal.currentPrefix)).map((r) =>
      sealedRow(at.stage, r),
    );
    if (rows.length > 0) {
      const rewrites = rows.map((row) => ({
        row,
        values: row.values.map((v) =>
          v === null || v.startsWith(seal.currentPrefix) ? v : seal.seal(seal.open(v, row.owner), row.owner),
        ),
      }));
      const rewritten = await access.rewrite(at.stage, rewrites);
      const last = rows[rows.length - 1]!.key;
      return { rewritten, cursor: { stage: at.stage, after: last } };
    }
    const next = RESEAL_STAGES[RESEAL_STAGES.indexOf(at.stage) + 1];
    if (next === undefined) return { rewritten: 0, cursor: null };
    at = { stage: next, after: null };
  }
}
