import type { Channel, ChannelModel } from "amqplib";

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

/**
 * A submitter's name as the first word of its statuses' routing keys on `taskexec.status`: every
 * byte but letters, digits, `_` and `-` percent-encoded. A dot would make it two words (`alice.#`
 * would hear `alice.smith`), and `*` or `#` alone a wildcard; a broker permission on
 * `^<word>\.` (`taskexec broker grant`) then gives each submitter its own statuses and no one else's.
 */
export function submitterWord(submitter: string): string {
  return Array.from(Buffer.from(submitter, "utf8"), (byte) => {
    const c = String.fromCharCode(byte);
    return /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
}

/** The submitter a routing key's first word names (see {@link submitterWord}). */
export function submitterOfWord(word: string): string {
  try {
    return decodeURIComponent(word);
  } catch {
    return word; // not one we made: it names no submitter a listener waits for
  }
}

/** The highest priority `taskexec.tasks` orders by (task priorities 0–10). */
export const MAX_PRIORITY = 10;

/**
 * Makes sure the topology is there: checked passively first (which a broker user without the
 * right to configure may do: a submitter, a worker, under `taskexec broker setup`'s
 * permissions), and declared only when something is missing. Every process does it on every
 * (re)connect, so that any process may start first where it may declare.
 */
export async function ensureTopology(model: ChannelModel): Promise<void> {
  const probe = await model.createChannel();
  // A missing entity closes the probe with 404: that says "declare", it is no failure.
  probe.on("error", () => {});
  try {
    for (const exchange of Object.values(EXCHANGES)) await probe.checkExchange(exchange);
    for (const queue of Object.values(QUEUES)) await probe.checkQueue(queue);
    await probe.close();
    return;
  } catch {
    // Missing, or not ours to see: declare it (a principal that may not says so).
  }
  const channel = await model.createChannel();
  let refused: Error | undefined;
  channel.on("error", (error: Error) => (refused = error));
  try {
    await declareTopology(channel);
    await channel.close();
  } catch (error) {
    throw refused ?? error;
  }
}

/**
 * Declares the topology of SPEC §4, all durable: declaring what exists with the same arguments
 * changes nothing, so any process may do it, first or again.
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
