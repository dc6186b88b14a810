import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderJsonSchemaFiles } from "../../../src/protocol/json-schemas.js";
import { asyncApiDocument, renderAsyncApi } from "../../../src/transport/amqp/asyncapi.js";
import { EXCHANGES, QUEUES } from "../../../src/transport/amqp/topology.js";

describe("published JSON Schemas", () => {
  it("are up to date with the zod sources (run `npm run schemas` if this fails)", () => {
    const dir = join(import.meta.dirname, "..", "..", "..", "schemas");
    const files = renderJsonSchemaFiles();
    expect(files.size).toBe(4);
    for (const [name, text] of files) {
      const published = readFileSync(join(dir, name), "utf8");
      expect(published, `schemas/${name} is stale`).toBe(text);
    }
  });

  it("include the broker's AsyncAPI document, up to date with the topology and the same zod sources", () => {
    const dir = join(import.meta.dirname, "..", "..", "..", "schemas");
    expect(readFileSync(join(dir, "asyncapi.yaml"), "utf8"), "schemas/asyncapi.yaml is stale").toBe(
      renderAsyncApi(),
    );
  });

  it("describe every exchange and queue of the topology, and every message they reference", () => {
    const doc = asyncApiDocument() as {
      channels: Record<
        string,
        { bindings: { amqp: { exchange?: { name: string }; queue?: { name: string } } } }
      >;
      components: { messages: Record<string, unknown> };
    };
    const text = JSON.stringify(doc);
    const named = Object.values(doc.channels).map(
      (c) => c.bindings.amqp.exchange?.name ?? c.bindings.amqp.queue?.name,
    );
    for (const name of [
      ...Object.values(EXCHANGES).filter((e) => e !== EXCHANGES.dead),
      ...Object.values(QUEUES),
    ])
      expect(named, name).toContain(name);
    for (const [, message] of text.matchAll(/"#\/components\/messages\/(\w+)"/g))
      expect(doc.components.messages, message).toHaveProperty(message!);
    expect(doc.components.messages).toHaveProperty(
      ["submit_task", "payload", "properties", "type", "const"],
      "submit_task",
    );
  });
});
