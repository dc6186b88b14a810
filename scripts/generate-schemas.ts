// Writes the protocol's JSON Schemas and the broker's AsyncAPI document into schemas/ (npm run schemas).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderJsonSchemaFiles } from "../src/protocol/json-schemas.js";
import { renderAsyncApi } from "../src/transport/amqp/asyncapi.js";

const dir = join(import.meta.dirname, "..", "schemas");
for (const [name, text] of renderJsonSchemaFiles()) {
  writeFileSync(join(dir, name), text);
  console.log(`wrote schemas/${name}`);
}
writeFileSync(join(dir, "asyncapi.yaml"), renderAsyncApi());
console.log("wrote schemas/asyncapi.yaml");
