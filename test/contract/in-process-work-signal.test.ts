import { InProcessWorkSignal } from "../../src/transport/memory/in-process-work-signal.js";
import { describeWorkSignalContract } from "./work-signal.contract.js";

describeWorkSignalContract("in process", async () => {
  const errors: unknown[] = [];
  const signal = new InProcessWorkSignal((error) => errors.push(error));
  return { signal, errors, cleanup: () => signal.close() };
});
