import { describe, expect, it } from "vitest";
import { batchProofs, MAX_BATCH, rootOf } from "../../../src/security/batch-proof.js";

const messages = (n: number) => Array.from({ length: n }, (_, i) => `{"message":${i}}`);

describe("batch proofs (a Merkle tree of the messages, RFC 6962)", () => {
  it("lead every message of a batch of any size to the root, from its own place only", () => {
    for (let n = 1; n <= 33; n++) {
      const batch = messages(n);
      const { root, paths } = batchProofs(batch);
      expect(paths).toHaveLength(n);
      for (let i = 0; i < n; i++) {
        expect(rootOf(batch[i]!, i, n, paths[i]!)).toBe(root);
        expect(paths[i]!.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        if (n > 1) {
          // Another place or another message: another root, or none. (The count is the signed
          // claim `n`, not the reader's to choose.)
          expect(rootOf(batch[i]!, (i + 1) % n, n, paths[i]!)).not.toBe(root);
          expect(rootOf(batch[(i + 1) % n]!, i, n, paths[i]!)).not.toBe(root);
        }
      }
    }
  });

  it("refuse a path that was cut, lengthened or altered", () => {
    const batch = messages(12);
    const { root, paths } = batchProofs(batch);
    const path = paths[5]!;
    expect(rootOf(batch[5]!, 5, 12, path.slice(1))).toBeUndefined();
    expect(rootOf(batch[5]!, 5, 12, [...path, path[0]!])).toBeUndefined();
    const altered = [...path];
    altered[1] = Buffer.alloc(32, 7).toString("base64url");
    expect(rootOf(batch[5]!, 5, 12, altered)).not.toBe(root);
    expect(rootOf(batch[5]!, 5, 12, ["not a hash"])).toBeUndefined();
    expect(rootOf(batch[5]!, 5, 12, [...path, ...Array<string>(20).fill(path[0]!)])).toBeUndefined();
    expect(rootOf(batch[5]!, -1, 12, path)).toBeUndefined();
    expect(rootOf(batch[5]!, 12, 12, path)).toBeUndefined();
  });

  it("tell a leaf from an inner node (a message that is two hashes proves nothing)", () => {
    const batch = messages(2);
    const { root, paths } = batchProofs(batch);
    // The inner node's input, offered as a message of a batch of one, does not reach the root.
    const inner = Buffer.concat([
      Buffer.from(paths[1]![0]!, "base64url"),
      Buffer.from(paths[0]![0]!, "base64url"),
    ]);
    expect(rootOf(inner, 0, 1, [])).not.toBe(root);
  });

  it("hold 1 to MAX_BATCH messages", () => {
    expect(() => batchProofs([])).toThrow(RangeError);
    expect(() => batchProofs(messages(MAX_BATCH + 1))).toThrow(RangeError);
    expect(batchProofs(messages(MAX_BATCH)).paths[MAX_BATCH - 1]).toHaveLength(10);
  });
});
