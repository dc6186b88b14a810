/**
 * How the store keeps the values that may be secret — a task's parameters, result and error, a
 * status's details, an audit record's payload: as their JSON, or sealed (encryption at rest,
 * `security.data_key`). The store hands each value's JSON to `seal` on the way in and what it
 * read to `open` on the way out; the owner (a task id) binds a sealed value to its row, so that
 * one copied into another row does not open there.
 */
export interface ValueSeal {
  /** What to store for the JSON text `json` of a value of `owner`'s. */
  seal(json: string, owner: string): string;
  /** The JSON text of a stored value; one stored in clear (before sealing was on) as it is. */
  open(stored: string, owner: string): string;
  /** The prefix every value sealed under the current key starts with: others are to be resealed. */
  readonly currentPrefix: string;
}

/** Sealed values start with this: no JSON text does (JSON starts with `{ [ " - t f n` or a digit). */
export const SEALED_MARK = "e1.";

/** Values stored as their JSON: what the store does when no data key is configured. */
export const CLEAR: ValueSeal = {
  seal: (json) => json,
  open: (stored) => {
    // A process configured without the data key its peers seal with: say so, not "bad JSON".
    if (stored.startsWith(SEALED_MARK))
      throw new Error(
        "a stored value is sealed under a data key, and this process has none: set security.data_key (or data_key_file) as on the other processes",
      );
    return stored;
  },
  currentPrefix: "",
};
