// docs/CONFIGURATION.md, generated from the options' zod schema (keys, types, defaults) and the
// doc comments on its keys (what each does): `npm run docs:config` writes it, and a test fails
// when it is stale. The comments are read with the TypeScript compiler, so the schema stays the
// one place a key is described.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { format } from "prettier";
import ts from "typescript";
import { z } from "zod";
import { ExecutorOptionsSchema } from "../src/config/options.js";

const root = join(import.meta.dirname, "..");
const SOURCES = ["src/config/service-options.ts", "src/config/options.ts"];
export const REFERENCE = join(root, "docs", "CONFIGURATION.md");

interface KeyDoc {
  text: string;
  default?: string;
}

/** The doc comment of every property in the schema files, by its dotted path. */
function keyDocs(): Map<string, KeyDoc> {
  const docs = new Map<string, KeyDoc>();
  for (const file of SOURCES) {
    const source = ts.createSourceFile(
      file,
      readFileSync(join(root, file), "utf8"),
      ts.ScriptTarget.Latest,
      true,
    );
    const visit = (node: ts.Node, path: string[]) => {
      if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name))) {
        const here = [...path, node.name.text];
        const comments = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
        const doc = comments[comments.length - 1];
        if (doc !== undefined) {
          const text = ts.getTextOfJSDocComment(doc.comment) ?? "";
          const tag = doc.tags?.find((t) => t.tagName.text === "default");
          docs.set(here.join("."), {
            text: text.replace(/\s+/g, " ").trim(),
            ...(tag && { default: (ts.getTextOfJSDocComment(tag.comment) ?? "").trim() }),
          });
        }
        ts.forEachChild(node.initializer, (child) => visit(child, here));
        return;
      }
      ts.forEachChild(node, (child) => visit(child, path));
    };
    visit(source, []);
  }
  return docs;
}

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  format?: string;
}

function typeOf(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((v) => `\`${JSON.stringify(v)}\``).join(" | ");
  if (schema.anyOf) return [...new Set(schema.anyOf.map(typeOf))].join(" or ");
  if (schema.type === "array") return `list of ${schema.items ? typeOf(schema.items) : "any"}`;
  if (schema.type === "object" && typeof schema.additionalProperties === "object")
    return `map of ${typeOf(schema.additionalProperties)}`;
  const type = Array.isArray(schema.type) ? schema.type.join(" or ") : (schema.type ?? "any");
  if (type === "string or number") return "duration (`30s`, `15m`, `7d`) or ms";
  const big = 2 ** 53 - 1;
  const min = schema.minimum;
  const max = schema.maximum !== undefined && schema.maximum < big ? schema.maximum : undefined;
  if (min !== undefined && max !== undefined) return `${type} ${min}–${max}`;
  if (min !== undefined) return `${type} ≥ ${min}`;
  return type;
}

const envName = (path: string[]) => `TASKEXEC_${path.map((p) => p.toUpperCase()).join("__")}`;
const cell = (text: string) => text.replaceAll("|", "\\|");

/** The reference as Markdown (formatted as Prettier leaves it): one table per section, a row per key. */
export function renderConfigurationReference(): Promise<string> {
  const docs = keyDocs();
  const schema = z.toJSONSchema(ExecutorOptionsSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const sections: { title: string; rows: string[] }[] = [{ title: "Top level", rows: [] }];
  const row = (path: string[], node: JsonSchema) => {
    const key = path.join(".");
    const doc = docs.get(key);
    const fallback =
      node.default === undefined || typeof node.default === "object"
        ? undefined
        : JSON.stringify(node.default);
    const value = doc?.default ?? fallback;
    return `| \`${key}\` | ${cell(typeOf(node))} | ${value === undefined ? "—" : `\`${cell(value)}\``} | \`${envName(path)}\` | ${cell(doc?.text ?? "")} |`;
  };
  for (const [name, node] of Object.entries(schema.properties ?? {})) {
    if (node.type === "object" && node.properties !== undefined) {
      const section = {
        title: `\`${name}\`${docs.get(name)?.text ? ` — ${docs.get(name)!.text}` : ""}`,
        rows: [] as string[],
      };
      const walk = (path: string[], child: JsonSchema) => {
        if (child.type === "object" && child.properties !== undefined)
          for (const [key, grandchild] of Object.entries(child.properties)) walk([...path, key], grandchild);
        else section.rows.push(row(path, child));
      };
      walk([name], node);
      sections.push(section);
    } else sections[0]!.rows.push(row([name], node));
  }
  const header = "| key | type | default | environment | what |\n| --- | --- | --- | --- | --- |";
  const markdown = [
    "# Configuration reference",
    "",
    "<!-- Generated by `npm run docs:config` from src/config/*.ts; a test fails when it is stale. -->",
    "",
    "`taskexec serve` reads `config.yaml` in the current folder (or `--config FILE`, or `TASKEXEC_CONFIG`).",
    "Every key may be set by its environment variable instead (nested keys joined by `__`; lists and",
    "maps as JSON), and values may use `${VAR}`. `createExecutor(options)` takes the same keys as an",
    "object. `taskexec config check` names each key that is wrong. See also",
    "[config.example.yaml](../config.example.yaml).",
    "",
    ...sections.flatMap((s) => [`## ${s.title}`, "", header, ...s.rows, ""]),
  ].join("\n");
  return format(markdown, { parser: "markdown", printWidth: 110 });
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(REFERENCE, await renderConfigurationReference());
  console.log(`wrote ${REFERENCE}`);
}
