import type { TaskTypeInfo } from "../domain/records.js";
import type { AnyTaskHandler } from "./handler.js";
import { parametersJsonSchema } from "./parameter-schema.js";

/** What a client may know of a task type: `GET /v1/types`, `taskexec types`, the dashboard's form. */
export type HandlerTypeInfo = TaskTypeInfo;

/** The handlers this executor can run, by task type. */
export class HandlerRegistry {
  readonly #handlers = new Map<string, AnyTaskHandler>();
  #described: HandlerTypeInfo[] | undefined;

  /** Adds a handler; a second handler for the same type is a mistake and throws. */
  register(handler: AnyTaskHandler): void {
    if (this.#handlers.has(handler.type)) {
      throw new Error(`a handler for task type "${handler.type}" is already registered`);
    }
    this.#handlers.set(handler.type, handler);
    this.#described = undefined;
  }

  /** Every type with its description, parameters' JSON Schema and example, by type name. */
  describe(): readonly HandlerTypeInfo[] {
    return (this.#described ??= this.types().map((type) => {
      const handler = this.#handlers.get(type)!;
      return {
        type,
        description: handler.description ?? null,
        parameters_schema: parametersJsonSchema(handler.parameters) ?? null,
        example: handler.example ?? null,
      };
    }));
  }

  get(type: string): AnyTaskHandler | undefined {
    return this.#handlers.get(type);
  }

  types(): string[] {
    return [...this.#handlers.keys()].sort();
  }
}
