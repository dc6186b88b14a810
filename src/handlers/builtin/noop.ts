import { z } from "zod";
import { defineHandler } from "../handler.js";

/** `noop`: does nothing and returns `{}`; for smoke tests and benchmarks. */
export const noopHandler = defineHandler({
  type: "noop",
  description: "Does nothing and returns {}",
  parameters: z.object({}),
  example: {},
  run: () => ({}),
});
