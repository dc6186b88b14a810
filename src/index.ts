/**
 * taskexec — a durable task executor.
 *
 * @example
 * import { createExecutor, defineHandler } from "taskexec";
 * import { z } from "zod";
 *
 * const executor = await createExecutor({
 *   store: { url: "sqlite:data/taskexec.db" },
 *   handlers: [
 *     defineHandler({
 *       type: "greet",
 *       parameters: z.object({ name: z.string() }),
 *       async run({ parameters, progress }) {
 *         await progress(1);
 *         return { greeting: `hello ${parameters.name}` };
 *       },
 *     }),
 *   ],
 * });
 * await executor.start();
 * const client = executor.client();
 * const task = await client.submit({ type: "greet", parameters: { name: "Ada" }, priority: 5 });
 * for await (const status of client.watch(task.id)) console.log(status.body.status);
 * await executor.stop();
 *
 * @packageDocumentation
 */
export {
  type ClientEncryptionOptions,
  generateResultKey,
  type ResultKeyPair,
} from "./client/client-encryption.js";
export { TaskexecHttpError } from "./client/http-task-client.js";
export { TaskClient, type TaskClientOptions } from "./client/url-task-client.js";
export type {
  SubmitManyResult,
  SubmitRequest,
  SubmittedTask,
  TaskClientApi,
  TaskFilter,
  TaskPage,
} from "./client/task-client.js";
export { ConfigError } from "./config/config-error.js";
export type { ExecutorOptions } from "./config/options.js";
export type { ExecutorLifecycle } from "./engine/task-executor.js";
export type { TaskSnapshot, TaskSummary } from "./engine/task-snapshot.js";
export { createExecutor, Executor } from "./executor.js";
export type { HandlerContext, HandlerDefinition, TaskHandler } from "./handlers/handler.js";
export { defineHandler } from "./handlers/handler.js";
export type { ParameterSchema } from "./handlers/parameter-schema.js";
export type { HandlerTypeInfo } from "./handlers/registry.js";
export { ERROR_CODES, type ErrorCode } from "./protocol/error-codes.js";
export {
  AmbiguousTaskIdError,
  MalformedMessageError,
  PermanentError,
  TaskexecError,
  TaskNotFoundError,
  TaskRejectedError,
} from "./protocol/errors.js";
export type { ValidationIssue } from "./protocol/issues.js";
export type { TaskState } from "./protocol/states.js";
export type { StatusEvent, TaskStatus } from "./protocol/task-status.js";
export { PROTOCOL_VERSION } from "./protocol/version.js";
export type { ResourceSnapshot } from "./resources/resource-manager.js";
