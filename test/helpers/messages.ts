/** The seed protocol's example message, with its deadline moved `aheadMs` into the future. */
export function seedExample(aheadMs = 30 * 60_000, messageId = "task-123") {
  return {
    type: "submit_task",
    header: { message_id: messageId, timestamp: new Date().toISOString() },
    body: {
      task_specification: {
        type: "data_processing",
        parameters: {
          input_source: "data_stream_1",
          processing_steps: ["validate", "transform", "aggregate"],
        },
      },
      priority: 1,
      deadline: new Date(Date.now() + aheadMs).toISOString(),
    },
  };
}

/** Deep copy with one change applied: a path of keys, and a value (or `undefined` to delete). */
export function mutate(message: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(message) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}
