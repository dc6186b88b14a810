// How a type's parameters read to a person, from their JSON Schema: one row per top-level field.
// Shared by `taskexec types` and the dashboard's submit form (which bundles it: no imports here).

/** One parameter: its name, its type in a few words, and what the schema says of it. */
export interface ParameterField {
  name: string;
  /** `integer 0–9`, `"a" | "b"`, `list of string`. */
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

interface ObjectSchema {
  properties?: Record<string, Record<string, unknown>>;
  required?: string[];
}

/** The top-level fields of a parameters schema, in its order; `null` for a schema that describes nothing. */
export function parameterFields(schema: Record<string, unknown> | null): ParameterField[] | null {
  if (schema === null) return null;
  const { properties = {}, required = [] } = schema as ObjectSchema;
  return Object.entries(properties).map(([name, property]) => ({
    name,
    type: describeJsonType(property),
    required: required.includes(name),
    ...(property.default !== undefined && { default: property.default }),
    ...(typeof property.description === "string" && { description: property.description }),
  }));
}

/** A JSON Schema's type in a few words: `integer 0–9`, `"a" | "b"`, `list of string`. */
export function describeJsonType(schema: Record<string, unknown>): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const type = Array.isArray(schema.type)
    ? schema.type.join(" or ")
    : typeof schema.type === "string"
      ? schema.type
      : "any";
  if (type === "array" && typeof schema.items === "object" && schema.items !== null)
    return `list of ${describeJsonType(schema.items as Record<string, unknown>)}`;
  const min = typeof schema.minimum === "number" ? schema.minimum : undefined;
  const max =
    typeof schema.maximum === "number" && schema.maximum < Number.MAX_SAFE_INTEGER
      ? schema.maximum
      : undefined;
  if (min !== undefined && max !== undefined) return `${type} ${min}–${max}`;
  if (min !== undefined) return `${type} ≥ ${min}`;
  if (max !== undefined) return `${type} ≤ ${max}`;
  return type;
}
