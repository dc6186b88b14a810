// The seed protocol's example task type: validate → transform → aggregate an input stream,
// with one progress update per step. `npm start` loads this module.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { defineHandler } from "../src/index.js";

const STEPS = ["validate", "transform", "aggregate"] as const;

const Parameters = z.object({
  input_source: z
    .string()
    .min(1)
    .describe("`file:<path>` reads a JSON array of numbers; any other name generates a repeatable stream"),
  processing_steps: z.array(z.enum(STEPS)).min(1).describe("the steps to run, in order"),
  records: z.int().min(1).max(1_000_000).default(1000).describe("size of a generated stream"),
});

interface State {
  values: unknown[];
  numbers: number[];
  summary?: { count: number; sum: number; mean: number; min: number; max: number };
  rejected: number;
}

export const dataProcessing = defineHandler({
  type: "data_processing",
  description: "The seed protocol's example: validate → transform → aggregate an input stream",
  parameters: Parameters,
  example: { input_source: "data_stream_1", processing_steps: ["validate", "transform", "aggregate"] },
  async run({ parameters, progress, signal }) {
    const state: State = {
      values: await load(parameters.input_source, parameters.records),
      numbers: [],
      rejected: 0,
    };
    for (const [i, step] of parameters.processing_steps.entries()) {
      signal.throwIfAborted();
      runStep(step, state);
      await progress((i + 1) / parameters.processing_steps.length, { step });
    }
    return {
      input_source: parameters.input_source,
      records_in: state.values.length,
      records_rejected: state.rejected,
      steps: parameters.processing_steps,
      summary: state.summary ?? null,
    };
  },
});

function runStep(step: (typeof STEPS)[number], state: State): void {
  switch (step) {
    case "validate": {
      state.numbers = state.values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
      state.rejected = state.values.length - state.numbers.length;
      break;
    }
    case "transform": {
      const source =
        state.numbers.length > 0 ? state.numbers : state.values.map(Number).filter(Number.isFinite);
      state.numbers = source.map((n) => Math.round(n * 100) / 100);
      break;
    }
    case "aggregate": {
      const n = state.numbers;
      const sum = n.reduce((a, b) => a + b, 0);
      state.summary = {
        count: n.length,
        sum: Math.round(sum * 100) / 100,
        mean: n.length === 0 ? 0 : Math.round((sum / n.length) * 100) / 100,
        // Folded, not spread: Math.min(...n) overflows the stack past ~100,000 numbers.
        min: n.length === 0 ? 0 : n.reduce((a, b) => Math.min(a, b)),
        max: n.length === 0 ? 0 : n.reduce((a, b) => Math.max(a, b)),
      };
      break;
    }
  }
}

async function load(source: string, records: number): Promise<unknown[]> {
  if (source.startsWith("file:")) {
    const data: unknown = JSON.parse(await readFile(source.slice(5), "utf8"));
    if (!Array.isArray(data)) throw new Error(`${source} does not hold a JSON array`);
    return data as unknown[];
  }
  // A repeatable stream from the source's name: a few invalid records for `validate` to drop.
  let seed = [...source].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const next = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  return Array.from({ length: records }, (_, i) => (i % 97 === 13 ? "corrupt" : next() * 1000));
}

export default dataProcessing;
