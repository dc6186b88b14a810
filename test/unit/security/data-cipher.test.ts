import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/config/config-error.js";
import { compileOptions } from "../../../src/config/options.js";
import { DataCipher, dataKeysFrom, newDataKey } from "../../../src/security/data-cipher.js";
import { sealedDetails } from "../../../src/store/stored-rows.js";
import { tempDir } from "../../helpers/temp.js";

describe("DataCipher (encryption at rest)", () => {
  const cipher = new DataCipher([randomBytes(32)]);

  it("opens what it sealed, for any JSON, and the sealed text shows none of it", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.uuid(), (value, owner) => {
        const json = JSON.stringify(value);
        const sealed = cipher.seal(json, owner);
        expect(sealed.startsWith(cipher.currentPrefix)).toBe(true);
        expect(cipher.open(sealed, owner)).toBe(json);
        if (json.length >= 8) expect(sealed).not.toContain(json);
      }),
    );
  });

  it("seals the same value differently each time (a fresh IV)", () => {
    expect(cipher.seal('{"a":1}', "t")).not.toBe(cipher.seal('{"a":1}', "t"));
  });

  it("refuses a value moved to another task's row, and a value changed by one bit", () => {
    const sealed = cipher.seal('{"secret":"canary"}', "task-a");
    expect(() => cipher.open(sealed, "task-b")).toThrow();
    const bytes = Buffer.from(sealed.slice(cipher.currentPrefix.length), "base64url");
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0x01;
    expect(() => cipher.open(cipher.currentPrefix + bytes.toString("base64url"), "task-a")).toThrow();
  });

  it("seals a status's details when they hold client data, and leaves the engine's bookkeeping in clear", () => {
    const started = { event: "execution_started" as const, attempt: 1, node: "n1" };
    expect(sealedDetails(cipher, started, "t")).toBe(JSON.stringify(started));
    for (const details of [
      { event: "task_completed" as const, attempt: 1, result: { secret: "canary" } },
      { event: "progress_update" as const, attempt: 1, rows: 10 },
      { reason: "a handler's words" },
    ]) {
      const stored = sealedDetails(cipher, details, "t")!;
      expect(stored.startsWith(cipher.currentPrefix)).toBe(true);
      expect(JSON.parse(cipher.open(stored, "t"))).toEqual(details);
    }
    expect(sealedDetails(cipher, undefined, "t")).toBeNull();
  });

  it("reads values stored in clear before a key was set, and under older keys it is given", () => {
    expect(cipher.open('{"plain":true}', "t")).toBe('{"plain":true}');
    const oldKey = randomBytes(32);
    const old = new DataCipher([oldKey]);
    const sealedOld = old.seal("[1,2]", "t");
    const rotated = new DataCipher([randomBytes(32), oldKey]);
    expect(rotated.open(sealedOld, "t")).toBe("[1,2]");
    expect(rotated.currentPrefix).not.toBe(old.currentPrefix);
    expect(() => new DataCipher([randomBytes(32)]).open(sealedOld, "t")).toThrow(/not configured/);
  });
});

describe("dataKeysFrom (security.data_key, data_key_file, previous_data_keys)", () => {
  it("is undefined with no key, and reads the key, the file's lines and the older keys in order", () => {
    expect(dataKeysFrom({})).toBeUndefined();
    const [a, b, c] = [newDataKey(), newDataKey(), newDataKey()];
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, "data.key");
      writeFileSync(file, `# current first\n${b}\n\n${c}\n`);
      const keys = dataKeysFrom({ data_key: a, data_key_file: file, previous_data_keys: [c] })!;
      expect(keys.map((k) => k.toString("base64"))).toEqual([a, b, c, c]);
    } finally {
      tmp.remove();
    }
  });

  it("names the key that is not 32 bytes of base64, and the file it cannot read", () => {
    for (const bad of ["short", Buffer.alloc(16).toString("base64"), "not base64 at all!"]) {
      expect(() => dataKeysFrom({ data_key: bad })).toThrow(ConfigError);
      try {
        dataKeysFrom({ data_key: bad });
      } catch (error) {
        expect((error as ConfigError).problems[0]).toMatchObject({ path: "security.data_key" });
      }
    }
    expect(() => dataKeysFrom({ data_key: newDataKey(), previous_data_keys: ["x"] })).toThrow(
      /previous_data_keys\[0\]|32 random bytes/,
    );
    expect(() => dataKeysFrom({ data_key_file: "/no/such/file" })).toThrow(ConfigError);
  });

  it("is checked with the rest of the configuration (config check, start)", () => {
    expect(() => compileOptions({ security: { data_key: "tooshort" } })).toThrow(
      /security\.data_key: must be 32 random bytes/,
    );
    expect(() => compileOptions({ security: { previous_data_keys: ["x"] } })).toThrow(
      /previous_data_keys\[0\]: must be 32/,
    );
    expect(compileOptions({ security: { data_key: newDataKey() } }).security.data_key).toBeDefined();
  });
});
