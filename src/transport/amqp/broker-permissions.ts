import { EXCHANGES, QUEUES, submitterWord } from "./topology.js";

/** The kinds of principal that connect to the broker, each with only what it needs. */
export const BROKER_ROLES = ["submitter", "worker", "api"] as const;
export type BrokerRole = (typeof BROKER_ROLES)[number];

/**
 * What RabbitMQ lets a user do in one vhost: three regular expressions over the names of
 * exchanges and queues (`configure`: declare and delete; `write`: publish to an exchange, bind a
 * queue; `read`: consume a queue, bind from an exchange), and, on topic exchanges, expressions over
 * routing keys (`write`: publish with that key; `read`: bind with that key).
 */
export interface BrokerPermissions {
  configure: string;
  write: string;
  read: string;
  topics: { exchange: string; write: string; read: string }[];
}

/** Server-named queues (`amq.gen-…`): each process's own exclusive queues, which only it can use. */
const OWN_QUEUES = "amq\\.gen-.*";
/** Publishing with the default exchange: how work reaches `taskexec.tasks`. */
const DEFAULT_EXCHANGE = "amq.default";

/** Matches exactly the names given (and a process's own queues). */
function names(...list: string[]): string {
  return `^(${[...list.map(escape), OWN_QUEUES].join("|")})$`;
}

function escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The permissions of each broker role (`taskexec broker grant`); the topology itself is
 * declared by `taskexec broker setup`, with an administrator's credentials, so no role may
 * configure more than its own exclusive queues (nor delete what the cluster relies on).
 *
 * - a **submitter** publishes to `taskexec.submit` and hears `taskexec.status` only under its
 *   own routing keys (`<sub>.…`, its submitter word): it can neither bind `#`, nor read
 *   `taskexec.submissions` or a copy of `taskexec.submit`, nor publish a status or work;
 * - a **worker** takes `taskexec.tasks`, publishes statuses, heartbeats and dead letters, and
 *   passes on to `taskexec.tasks` the work it cannot run (with the api's signature kept) and the
 *   work its relay hands over (a retry due, a task handed back): it holds the cluster's signing key
 *   anyway, so the broker adds nothing against a worker gone bad; a submitter is what it keeps out;
 * - an **api** takes `taskexec.submissions`, hears every status and heartbeat, and publishes
 *   statuses, work and dead letters.
 */
export function brokerPermissions(role: BrokerRole, sub?: string): BrokerPermissions {
  switch (role) {
    case "submitter": {
      if (sub === undefined || sub === "") throw new TypeError("a submitter's permissions name its sub");
      return {
        configure: `^${OWN_QUEUES}$`,
        write: names(EXCHANGES.submit),
        read: names(EXCHANGES.status),
        topics: [{ exchange: EXCHANGES.status, write: "^$", read: `^${submitterWord(sub)}\\.` }],
      };
    }
    case "worker":
      return {
        configure: `^${OWN_QUEUES}$`,
        write: names(DEFAULT_EXCHANGE, EXCHANGES.status, EXCHANGES.resources, EXCHANGES.dead),
        read: names(QUEUES.tasks, EXCHANGES.status),
        topics: [],
      };
    case "api":
      return {
        configure: `^${OWN_QUEUES}$`,
        write: names(DEFAULT_EXCHANGE, EXCHANGES.status, EXCHANGES.dead),
        read: names(QUEUES.submissions, EXCHANGES.status, EXCHANGES.resources),
        topics: [],
      };
  }
}
