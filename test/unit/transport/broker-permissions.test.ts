import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { brokerPermissions } from "../../../src/transport/amqp/broker-permissions.js";
import { EXCHANGES, QUEUES, submitterOfWord, submitterWord } from "../../../src/transport/amqp/topology.js";

/** How RabbitMQ matches a topic binding key against a routing key (`*` one word, `#` any number). */
function topicMatches(binding: string, key: string): boolean {
  const match = (b: string[], k: string[]): boolean => {
    if (b.length === 0) return k.length === 0;
    const [head, ...rest] = b;
    if (head === "#") return match(rest, k) || (k.length > 0 && match(b, k.slice(1)));
    if (k.length === 0) return false;
    return (head === "*" || head === k[0]) && match(rest, k.slice(1));
  };
  return match(binding.split("."), key.split("."));
}

describe("a submitter's routing word", () => {
  it("is one word of safe characters, and names its submitter back", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: "grapheme" }), (sub) => {
        const word = submitterWord(sub);
        expect(word).toMatch(/^[A-Za-z0-9_%-]+$/);
        expect(submitterOfWord(word)).toBe(sub);
      }),
    );
    expect(submitterWord("alice")).toBe("alice");
    expect(submitterWord("alice.smith")).toBe("alice%2Esmith");
    expect(submitterWord("*")).toBe("%2A");
  });

  it("keeps one submitter's binding from hearing another's statuses (alice.# heard alice.smith before)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.uuid(), (a, b, task) => {
        fc.pre(a !== b);
        const key = `${submitterWord(b)}.${task}`;
        expect(topicMatches(`${submitterWord(a)}.#`, key)).toBe(false);
        expect(topicMatches(`${submitterWord(a)}.*`, key)).toBe(false);
        expect(topicMatches(`${submitterWord(b)}.*`, key)).toBe(true);
      }),
    );
  });
});

describe("broker permissions", () => {
  const may = (pattern: string, name: string) => new RegExp(pattern).test(name);

  it("let a submitter publish submissions and bind only its own status keys", () => {
    const p = brokerPermissions("submitter", "alice.smith");
    expect(may(p.write, EXCHANGES.submit)).toBe(true);
    expect(may(p.read, EXCHANGES.status)).toBe(true);
    for (const name of [EXCHANGES.status, EXCHANGES.resources, EXCHANGES.dead, "amq.default"])
      expect(may(p.write, name), name).toBe(false);
    for (const name of [EXCHANGES.submit, QUEUES.submissions, QUEUES.tasks, QUEUES.dead, EXCHANGES.resources])
      expect(may(p.read, name), name).toBe(false);
    for (const name of Object.values({ ...EXCHANGES, ...QUEUES })) expect(may(p.configure, name)).toBe(false);
    expect(may(p.configure, "amq.gen-JzTY20BRgKO-HjmUJj0wLg")).toBe(true);
    const [topic] = p.topics;
    expect(topic).toMatchObject({ exchange: EXCHANGES.status, write: "^$" });
    expect(may(topic!.read, "alice%2Esmith.*")).toBe(true);
    for (const key of ["#", "*.*", "alice.#", "alice.*", "bob.*"])
      expect(may(topic!.read, key), key).toBe(false);
  });

  it("let a worker take work and an api take submissions, and neither reshape the topology", () => {
    const worker = brokerPermissions("worker");
    const api = brokerPermissions("api");
    expect(may(worker.read, QUEUES.tasks)).toBe(true);
    expect(may(worker.read, QUEUES.submissions)).toBe(false);
    expect(may(worker.write, EXCHANGES.resources)).toBe(true);
    expect(may(api.read, QUEUES.submissions)).toBe(true);
    expect(may(api.read, EXCHANGES.resources)).toBe(true);
    expect(may(api.write, "amq.default")).toBe(true);
    for (const name of Object.values({ ...EXCHANGES, ...QUEUES })) {
      expect(may(worker.configure, name)).toBe(false);
      expect(may(api.configure, name)).toBe(false);
    }
    expect(() => brokerPermissions("submitter")).toThrow(/sub/);
  });
});
