// Issue 28.12: the API descriptions pass the linters of tools no one here wrote, under their
// recommended rules: the OpenAPI document a server serves (Redocly), and schemas/asyncapi.yaml
// (the AsyncAPI parser's own rules, Spectral's). Errors and warnings both count; the parser's
// informational hints (a newer AsyncAPI version exists) do not.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DiagnosticSeverity, Parser } from "@asyncapi/parser";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { afterAll, describe, expect, it } from "vitest";
import { type ServiceHarness, startTestService } from "../helpers/service.js";

const root = join(import.meta.dirname, "..", "..");

describe("API descriptions", () => {
  let h: ServiceHarness | undefined;
  afterAll(async () => h?.cleanup());

  it("OpenAPI: Redocly's recommended rules find nothing; every operation has an id and a 4XX answer", async () => {
    h = await startTestService();
    const source = await (await fetch(`${h.url}/openapi.json`)).text();
    const problems = await lintFromString({
      source,
      absoluteRef: "openapi.json",
      config: await createConfig({ extends: ["recommended"] }),
    });
    expect(
      problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`),
    ).toEqual([]);
    const document = JSON.parse(source) as {
      servers: unknown[];
      paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
    };
    expect(document.servers.length).toBeGreaterThan(0);
    const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods));
    expect(operations.length).toBeGreaterThan(15);
    const ids = operations.map((o) => o.operationId);
    expect(ids.every((id) => typeof id === "string")).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operations.every((o) => "4XX" in o.responses)).toBe(true);
  });

  it("AsyncAPI: the parser validates schemas/asyncapi.yaml with no error or warning", async () => {
    const diagnostics = await new Parser().validate(
      readFileSync(join(root, "schemas", "asyncapi.yaml"), "utf8"),
    );
    const counted = [DiagnosticSeverity.Error, DiagnosticSeverity.Warning];
    expect(
      diagnostics
        .filter((d) => counted.includes(d.severity))
        .map((d) => `${d.code}: ${d.message} at ${d.path.join(".")}`),
    ).toEqual([]);
  });
});
