import type { Logger } from "pino";
import type { ResourceAmounts } from "../domain/records.js";
import { checkParameters, type ParameterSchema } from "./parameter-schema.js";

const HANDLER = Symbol.for("taskexec.handler");

/** What a handler's `run` receives for one attempt of one task. */
export interface HandlerContext<P = Record<string, unknown>> {
  /** Stable across attempts: use it (with `attempt`) to make side effects idempotent. */
  readonly taskId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The task's parameters, parsed by the handler's schema when it has one. */
  readonly parameters: P;
  /** The resources granted to this attempt. */
  readonly resources: Readonly<ResourceAmounts>;
  /** Aborts on cancel, deadline, `timeout_ms` and shutdown: stop soon after it fires. */
  readonly signal: AbortSignal;
  /** Reports progress (0–1) as a durable `progress_update` status; resolves once it is stored. */
  readonly progress: (fraction: number, details?: Record<string, unknown>) => Promise<void>;
  readonly log: Logger;
}

/** A task handler: the code that runs tasks of one `type`. Make one with {@link defineHandler}. */
export interface TaskHandler<P = Record<string, unknown>, R = unknown> {
  readonly type: string;
  /**
   * Checked at submission: a task whose parameters fail it is rejected with their paths. Any
   * Standard Schema (zod 4 or 3.24+, valibot, arktype, …); zod's also describes the parameters
   * as JSON Schema in `taskexec types` and the dashboard's form.
   */
  readonly parameters?: ParameterSchema<P> | undefined;
  /** One line on what the handler does, for `taskexec types` and the dashboard. */
  readonly description?: string | undefined;
  /** Parameters that pass the schema, shown by `taskexec types` and prefilled in the dashboard's form. */
  readonly example?: Record<string, unknown> | undefined;
  /** Runs one attempt. Throw `PermanentError` to fail without retrying. The result must be JSON. */
  run(context: HandlerContext<P>): Promise<R> | R;
  readonly [HANDLER]: true;
}

export interface HandlerDefinition<P, R> {
  type: string;
  parameters?: ParameterSchema<P>;
  description?: string;
  example?: Record<string, unknown>;
  run(context: HandlerContext<P>): Promise<R> | R;
}

/**
 * Defines a handler.
 *
 * @example
 * const resize = defineHandler({
 *   type: "resize_image",
 *   parameters: z.object({ url: z.string().url(), width: z.number().int() }),
 *   async run({ parameters, progress, signal }) { … return { ok: true }; },
 * });
 */
export function defineHandler<P = Record<string, unknown>, R = unknown>(
  definition: HandlerDefinition<P, R>,
): TaskHandler<P, R> {
  if (typeof definition.type !== "string" || definition.type.length === 0) {
    throw new TypeError("defineHandler: `type` must be a non-empty string");
  }
  if (typeof definition.run !== "function") throw new TypeError("defineHandler: `run` must be a function");
  if (
    definition.parameters !== undefined &&
    typeof definition.parameters["~standard"]?.validate !== "function"
  )
    throw new TypeError(
      "defineHandler: `parameters` must be a Standard Schema (zod 4, zod 3.24+, valibot, arktype, …)",
    );
  if (definition.example !== undefined && definition.parameters !== undefined) {
    const checked = checkParameters(definition.parameters, definition.example, "example");
    if (!checked.ok)
      throw new TypeError(
        `defineHandler(${definition.type}): \`example\` fails the parameter schema: ${checked.issues
          .map((issue) => `${issue.path}: ${issue.message}`)
          .join("; ")}`,
      );
  }
  return Object.freeze({ ...definition, [HANDLER]: true as const });
}

export function isHandler(value: unknown): value is TaskHandler {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[HANDLER] === true;
}

/** A handler of any parameter type, as the registry keeps them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers of every parameter type share one registry
export type AnyTaskHandler = TaskHandler<any, unknown>;
