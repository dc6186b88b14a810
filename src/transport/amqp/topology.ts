import type { Channel } from "amqplib";

/** The broker's names (SPEC §4, distributed mode). */
export const EXCHANGES = {
  submit: "taskexec.submit",
  status: "taskexec.status",
  resources: "taskexec.resources",
  dead: "taskexec.dlx",
} as const;

export const QUEUES = {
  submissions: "taskexec.submissions",
  tasks: "taskexec.tasks",
  dead: "taskexec.dead",
} as const;

/** The highest priority `taskexec.tasks` orders by (task priorities 0–10). */
export const MAX_PRIORITY = 10;

/**
 * Declares the topology of SPEC §4, all durable. Every process does it on every (re)connect:
 * declaring what exists with the same arguments changes nothing, so any process may start first.
 * Poison and refused messages go to `taskexec.dlx` (fanout) → `taskexec.dead`.
 */
export async function declareTopology(channel: Channel): Promise<void> {
  const deadLettered = { durable: true, arguments: { "x-dead-letter-exchange": EXCHANGES.dead } };
  await channel.assertExchange(EXCHANGES.dead, "fanout", { durable: true });
  await channel.assertQueue(QUEUES.dead, { durable: true });
  await channel.bindQueue(QUEUES.dead, EXCHANGES.dead, "");

  await channel.assertExchange(EXCHANGES.submit, "direct", { durable: true });
  await channel.assertQueue(QUEUES.submissions, deadLettered);
  for (const type of ["submit_task", "cancel_task"])
    await channel.bindQueue(QUEUES.submissions, EXCHANGES.submit, type);

  await channel.assertQueue(QUEUES.tasks, {
    durable: true,
    arguments: { ...deadLettered.arguments, "x-max-priority": MAX_PRIORITY },
  });
  await channel.assertExchange(EXCHANGES.status, "topic", { durable: true });
  await channel.assertExchange(EXCHANGES.resources, "topic", { durable: true });
}
