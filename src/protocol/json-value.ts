/** How deep task parameters may nest (SPEC §2): an object inside an object … 64 levels at most. */
export const MAX_JSON_DEPTH = 64;

export interface JsonValueProblem {
  /** Where, from the checked value down. */
  path: (string | number)[];
  message: string;
}

/**
 * Checks that a value is plain JSON no deeper than `maxDepth` (the value itself is level 1),
 * without recursion, so a hostile nesting cannot exhaust the stack here or in any encoder after.
 * Returns the first problem found, or undefined. Library callers hand in objects, not text, so
 * what JSON cannot carry (a BigInt, a function, a cycle, a non-finite number) is found here too.
 */
export function findJsonProblem(root: unknown, maxDepth = MAX_JSON_DEPTH): JsonValueProblem | undefined {
  const pending: { value: unknown; depth: number; path: (string | number)[] }[] = [
    { value: root, depth: 1, path: [] },
  ];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth, path } = next;
    switch (typeof value) {
      case "string":
      case "boolean":
      case "undefined": // an absent optional field of a library caller's object: JSON leaves it out
        continue;
      case "number":
        if (Number.isFinite(value)) continue;
        return { path, message: "must be a finite number (JSON has no NaN or Infinity)" };
      case "object":
        break;
      default:
        return { path, message: `is a ${typeof value}, which JSON cannot carry` };
    }
    if (value === null) continue;
    if (depth > maxDepth) return { path, message: `nests deeper than ${maxDepth} levels` };
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        pending.push({ value: value[i], depth: depth + 1, path: [...path, i] });
      continue;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return { path, message: "must be a plain JSON object" };
    for (const [key, inner] of Object.entries(value).reverse())
      pending.push({ value: inner, depth: depth + 1, path: [...path, key] });
  }
  return undefined;
}
