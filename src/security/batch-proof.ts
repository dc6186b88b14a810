import { createHash } from "node:crypto";

/**
 * One signature for many messages: the messages are the leaves of a Merkle tree (RFC 6962 §2.1:
 * a leaf is SHA-256(0x00 ‖ message), an inner node SHA-256(0x01 ‖ left ‖ right), a tree of n
 * leaves split at the largest power of two below n), the signature covers its root and leaf
 * count, and each message carries its audit path: the sibling hashes from its leaf up to the
 * root. A reader checks a message with its own bytes and its path alone, and the one signature
 * once per batch, however many messages the batch held.
 */

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/** The most messages one batch may hold. */
export const MAX_BATCH = 1024;
/** The longest audit path of a batch of MAX_BATCH. */
const MAX_PATH = 10;

export interface BatchProofs {
  /** The tree's root, base64url. */
  root: string;
  /** Each message's audit path, leaf first, hashes in base64url. */
  paths: string[][];
}

function leafHash(message: string | Uint8Array): Buffer {
  return createHash("sha256").update(LEAF).update(message).digest();
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash("sha256").update(NODE).update(left).update(right).digest();
}

/** The largest power of two strictly below n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The root of a batch of messages, with each one's audit path. */
export function batchProofs(messages: readonly (string | Uint8Array)[]): BatchProofs {
  if (messages.length === 0 || messages.length > MAX_BATCH)
    throw new RangeError(`a batch holds 1 to ${MAX_BATCH} messages, not ${messages.length}`);
  const paths: string[][] = messages.map(() => []);
  // Children before parents: the deeper siblings go into the paths first (leaf first).
  const build = (lo: number, hi: number): Buffer => {
    if (hi - lo === 1) return leafHash(messages[lo]!);
    const mid = lo + split(hi - lo);
    const left = build(lo, mid);
    const right = build(mid, hi);
    const [l, r] = [left.toString("base64url"), right.toString("base64url")];
    for (let i = lo; i < mid; i++) paths[i]!.push(r);
    for (let i = mid; i < hi; i++) paths[i]!.push(l);
    return nodeHash(left, right);
  };
  return { root: build(0, messages.length).toString("base64url"), paths };
}

/**
 * The root a message leads to, given its place in a batch of `count` and its audit path; undefined
 * when the path does not fit that place (too short, too long, or not hashes).
 */
export function rootOf(
  message: string | Uint8Array,
  index: number,
  count: number,
  path: readonly string[],
): string | undefined {
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_BATCH) return undefined;
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) return undefined;
  if (path.length > MAX_PATH) return undefined; // never decoded: no batch has a longer one
  const siblings = path.map((hash) => Buffer.from(hash, "base64url"));
  if (siblings.some((hash) => hash.length !== 32)) return undefined;
  // Walks down from the root to the leaf's subtree, then hashes back up with the siblings.
  let next = siblings.length;
  const climb = (at: number, n: number): Buffer | undefined => {
    if (n === 1) return next === 0 ? leafHash(message) : undefined;
    const k = split(n);
    if (next === 0) return undefined;
    const sibling = siblings[--next]!;
    const below = at < k ? climb(at, k) : climb(at - k, n - k);
    if (below === undefined) return undefined;
    return at < k ? nodeHash(below, sibling) : nodeHash(sibling, below);
  };
  return climb(index, count)?.toString("base64url");
}
