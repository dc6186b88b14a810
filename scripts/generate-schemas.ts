// Writes the protocol's JSON Schemas into schemas/ (npm run schemas).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderJsonSchemaFiles } from "../src/protocol/json-schemas.js";

const dir = join(import.meta.dirname, "..", "schemas");
for (const [name, text] of renderJsonSchemaFiles()) {
  writeFileSync(join(dir, name), text);
  console.log(`wrote schemas/${name}`);
}
