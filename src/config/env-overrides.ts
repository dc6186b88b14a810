import type { z } from "zod";

const PREFIX = "TASKEXEC_";
/** Variables with the prefix that are the CLI's own, not config keys. */
const CLIENT_VARIABLES = new Set(["TASKEXEC_URL", "TASKEXEC_TOKEN", "TASKEXEC_CONFIG"]);

/**
 * Applies `TASKEXEC_A__B=value` variables onto a config object: `TASKEXEC_HTTP__PORT=9000` sets
 * `http.port`. A value is taken as JSON (numbers, booleans, arrays, objects) unless the key is a
 * string in the schema, so a numeric-looking secret stays a string.
 */
export function applyEnvOverrides(
  config: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  schema: z.ZodType,
): Record<string, unknown> {
  const out = structuredClone(config);
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) || CLIENT_VARIABLES.has(name) || raw === undefined) continue;
    const path = name.slice(PREFIX.length).toLowerCase().split("__");
    let node = out;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      node = (
        typeof next === "object" && next !== null && !Array.isArray(next) ? next : (node[key] = {})
      ) as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = isStringAt(schema, path) ? raw : parseLoosely(raw);
  }
  return out;
}

function parseLoosely(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

interface SchemaDefinition {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  in?: z.ZodType;
}

/** Whether the schema at `path` takes a plain string (looking through optional and defaults). */
function isStringAt(schema: z.ZodType, path: readonly string[]): boolean {
  let node: z.ZodType | undefined = schema;
  for (let i = 0; node !== undefined;) {
    const def: SchemaDefinition = (node as unknown as { _zod: { def: SchemaDefinition } })._zod.def;
    if (def.innerType) node = def.innerType;
    else if (def.type === "pipe") node = def.in;
    else if (def.type === "object" && i < path.length) node = def.shape?.[path[i++]!];
    else return def.type === "string" && i === path.length;
  }
  return false;
}
