import type { AnyTaskHandler } from "./handler.js";

/** The handlers this executor can run, by task type. */
export class HandlerRegistry {
  readonly #handlers = new Map<string, AnyTaskHandler>();

  /** Adds a handler; a second handler for the same type is a mistake and throws. */
  register(handler: AnyTaskHandler): void {
    if (this.#handlers.has(handler.type)) {
      throw new Error(`a handler for task type "${handler.type}" is already registered`);
    }
    this.#handlers.set(handler.type, handler);
  }

  get(type: string): AnyTaskHandler | undefined {
    return this.#handlers.get(type);
  }

  types(): string[] {
    return [...this.#handlers.keys()].sort();
  }
}
