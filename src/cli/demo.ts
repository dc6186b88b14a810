// `npm start` until the service (HTTP API, CLI) lands: runs the seed protocol's example task
// on an embedded executor and prints every status message it produces.
import { dataProcessing } from "../../examples/data_processing.js";
import { createExecutor } from "../index.js";

const executor = await createExecutor({
  store: { url: process.env.TASKEXEC_STORE__URL ?? "sqlite:data/taskexec.db" },
  handlers: [dataProcessing],
  logging: { level: "warn" },
});
await executor.start();
const client = executor.client();

// The seed's example message, its deadline moved 30 minutes into the future.
const task = await client.submit({
  type: "data_processing",
  parameters: { input_source: "data_stream_1", processing_steps: ["validate", "transform", "aggregate"] },
  priority: 1,
  deadline: new Date(Date.now() + 30 * 60_000),
});
const asJson = process.argv.includes("--json");
if (!asJson)
  console.log(
    `submitted task ${task.id} to ${executor.node}\n\n  seq  state                event              progress`,
  );
for await (const status of client.watch(task.id)) {
  if (asJson) {
    console.log(JSON.stringify(status));
    continue;
  }
  const { sequence } = status.header;
  const { status: state, progress, details } = status.body;
  const percent = progress === undefined ? "" : `${Math.round(progress * 100)}%`;
  console.log(
    `  ${String(sequence).padStart(3)}  ${state.padEnd(19)}  ${(details?.event ?? "").padEnd(17)}  ${percent}`,
  );
  if (details?.result !== undefined) console.log(`\nresult: ${JSON.stringify(details.result, null, 2)}`);
  if (details?.error !== undefined) console.log(`\nerror: ${details.error.code}: ${details.error.message}`);
}
await executor.stop();
