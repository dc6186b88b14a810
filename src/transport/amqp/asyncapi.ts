import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { messageJsonSchemas } from "../../protocol/json-schemas.js";
import { PROTOCOL_VERSION } from "../../protocol/version.js";
import { z } from "zod";
import { SIGNATURE_HEADER } from "./message-proof.js";
import { DUPLICATE_HEADER, FACT_HEADERS } from "./amqp-status-bus.js";
import { REASON_HEADER } from "./dead-letter.js";
import { WorkMessage } from "./work-relay.js";
import { EXCHANGES, MAX_PRIORITY, QUEUES } from "./topology.js";

const PROTO = fileURLToPath(new URL("../../../proto/resource_status.proto", import.meta.url));

/** An AMQP 0-9-1 channel binding (AsyncAPI amqp bindings 0.2.0). */
const exchange = (name: string, type: "direct" | "topic" | "fanout") => ({
  amqp: {
    is: "routingKey",
    exchange: { name, type, durable: true, autoDelete: false, vhost: "/" },
    bindingVersion: "0.2.0",
  },
});
const queue = (name: string) => ({
  amqp: {
    is: "queue",
    queue: { name, durable: true, exclusive: false, autoDelete: false, vhost: "/" },
    bindingVersion: "0.2.0",
  },
});
const persistent = { amqp: { deliveryMode: 2, bindingVersion: "0.2.0" } };
const ref = (name: string) => ({ $ref: `#/components/messages/${name}` });

/**
 * The broker side of the protocol as an AsyncAPI 2.6 document: every exchange, queue, routing key
 * and message of distributed mode (SPEC §4), the JSON messages' payloads generated from the same
 * zod schemas as `schemas/*.schema.json`. `npm run schemas` writes it to `schemas/asyncapi.yaml`;
 * a test fails when that file is stale.
 */
export function asyncApiDocument(): Record<string, unknown> {
  const schemas = messageJsonSchemas();
  const payload = (type: "submit_task" | "cancel_task" | "task_status") => {
    const {
      $id: _id,
      $schema: _schema,
      ...schema
    } = schemas[`${type}.schema.json`] as Record<string, unknown>;
    return schema;
  };
  return {
    asyncapi: "2.6.0",
    id: "urn:taskexec:broker",
    info: {
      title: "taskexec broker protocol",
      version: PROTOCOL_VERSION,
      description:
        "Distributed mode: submitters and executors talk through RabbitMQ (AMQP 0-9-1). PostgreSQL holds every " +
        "task; the broker carries submissions, statuses and resource statuses. Every process declares this " +
        "topology, durable, on every connect. Messages are persistent; publishers use confirms; consumers ack " +
        "once the outcome is durable. A message that cannot be taken is dead-lettered to taskexec.dlx with the " +
        `reason in the ${REASON_HEADER} header.`,
      license: { name: "MIT", url: "https://opensource.org/license/mit" },
      contact: {
        name: "taskexec maintainers",
        url: "https://taskexec.dev",
        email: "maintainers@taskexec.dev",
      },
    },
    tags: [
      { name: "submissions", description: "What submitters send: submit_task and cancel_task." },
      { name: "statuses", description: "What executors say: task_status, on the topic exchange." },
      { name: "cluster", description: "What the processes tell each other: work and resource statuses." },
    ],
    servers: {
      rabbitmq: { url: "amqp://localhost:5672", protocol: "amqp", protocolVersion: "0.9.1" },
    },
    defaultContentType: "application/json",
    channels: {
      submit_task: {
        description: `Routing key on the ${EXCHANGES.submit} exchange (direct), bound to ${QUEUES.submissions}.`,
        bindings: exchange(EXCHANGES.submit, "direct"),
        publish: {
          operationId: "submitTask",
          summary: "Submit a task; header.auth holds the submitter's JWT (role submitter or admin).",
          bindings: persistent,
          message: ref("submit_task"),
        },
      },
      cancel_task: {
        description: `Routing key on the ${EXCHANGES.submit} exchange (direct), bound to ${QUEUES.submissions}.`,
        bindings: exchange(EXCHANGES.submit, "direct"),
        publish: {
          operationId: "cancelTask",
          summary: "Cancel a task by body.task_id or body.reference_id; header.auth holds the JWT.",
          bindings: persistent,
          message: ref("cancel_task"),
        },
      },
      [QUEUES.submissions]: {
        description:
          "Consumed by the admission side (auth, validation, idempotency, quotas, audit: exactly as over HTTP); " +
          `dead-letters to ${EXCHANGES.dead}.`,
        bindings: queue(QUEUES.submissions),
        // The messages are the two channels' above: named again here, each would be described twice
        // (AsyncAPI wants one message per messageId).
        subscribe: {
          operationId: "admitSubmissions",
          summary: "Takes the submit_task and cancel_task messages published on the two channels above.",
        },
      },
      "{submitter}.{task_id}": {
        description:
          `Routing key on the ${EXCHANGES.status} exchange (topic): every task_status, in per-task sequence order, ` +
          "at least once. A submission that never became a task, and a cancel refused, is answered on " +
          "{submitter}.rejected (its reference_id is the message's id). Bind " +
          "`alice.*` for one submitter's tasks, `*.<task_id>` for one task.",
        parameters: {
          submitter: {
            description:
              "The principal (JWT sub) that submitted the task, as one word: every byte but letters, digits, _ and - percent-encoded (alice.smith is alice%2Esmith).",
            schema: { type: "string" },
          },
          task_id: { description: "The task's id, or `rejected`.", schema: { type: "string" } },
        },
        bindings: exchange(EXCHANGES.status, "topic"),
        subscribe: { operationId: "taskStatus", bindings: persistent, message: ref("task_status") },
      },
      "{node_id}": {
        description: `Routing key on the ${EXCHANGES.resources} exchange (topic): each worker's ResourceStatus every heartbeat_ms.`,
        parameters: { node_id: { description: "The worker's node id.", schema: { type: "string" } } },
        bindings: exchange(EXCHANGES.resources, "topic"),
        subscribe: { operationId: "resourceStatus", bindings: persistent, message: ref("resource_status") },
      },
      [QUEUES.tasks]: {
        description:
          `Work for the workers, by priority (x-max-priority ${MAX_PRIORITY}); declared by every process. Published ` +
          "from the transactional outbox of PostgreSQL; a worker claims the task there, and acks once it started it " +
          "or let it go (a message may come twice: the claim is the fence).",
        bindings: queue(QUEUES.tasks),
        subscribe: { operationId: "readyTask", bindings: persistent, message: ref("ready_task") },
      },
      [QUEUES.dead]: {
        description: `Bound to ${EXCHANGES.dead} (fanout): poison and refused messages, as they came, with ${REASON_HEADER}.`,
        bindings: queue(QUEUES.dead),
      },
    },
    components: {
      messages: {
        submit_task: {
          messageId: "submit_task",
          name: "submit_task",
          contentType: "application/json",
          payload: payload("submit_task"),
        },
        cancel_task: {
          messageId: "cancel_task",
          name: "cancel_task",
          contentType: "application/json",
          payload: payload("cancel_task"),
        },
        task_status: {
          messageId: "task_status",
          name: "task_status",
          contentType: "application/json",
          summary:
            "A task's status; header.auth is the sender's signature of this message (an EdDSA JWT with the cluster's key, whose public half GET /v1/keys serves: audience taskexec:message, a jti of its own, and a dig claim, the base64url SHA-256 of the message's JSON without header.auth; or, for messages signed together, a root and n claim, the JWT followed by ~<place>~<audit path>, see docs/SECURITY.md), never a credential. Readers refuse one not signed by an executor, older than security.message_window_ms, or seen before.",
          headers: {
            type: "object",
            properties: {
              [FACT_HEADERS.type]: {
                type: "string",
                description: "The task's type (for observers' charts).",
              },
              [FACT_HEADERS.createdAt]: {
                type: "integer",
                description: "When the task was accepted (ms since 1970).",
              },
              [FACT_HEADERS.startedAt]: {
                type: "integer",
                description: "When its attempt started (ms since 1970).",
              },
              [DUPLICATE_HEADER]: {
                type: "integer",
                const: 1,
                description:
                  "Set on the answer to a submission whose message id named an existing task (nothing was created).",
              },
            },
          },
          payload: payload("task_status"),
        },
        ready_task: {
          messageId: "ready_task",
          name: "ready_task",
          contentType: "application/json",
          summary: `Work; ${SIGNATURE_HEADER} is its signature by the api or a worker (as task_status's header.auth, dig of the body, with a work claim; it lasts 24 h, and may come again: the claim in the store is the fence).`,
          headers: signatureHeader,
          payload: (({ $schema: _schema, ...schema }) => schema)(z.toJSONSchema(WorkMessage)),
        },
        resource_status: {
          messageId: "resource_status",
          name: "resource_status",
          contentType: "application/x-protobuf",
          summary: `taskexec.v1.ResourceStatus, protobuf (proto/resource_status.proto, below); ${SIGNATURE_HEADER} is the worker's signature of its bytes (as task_status's header.auth).`,
          headers: signatureHeader,
          payload: { type: "string", format: "binary" },
          "x-protobuf": readFileSync(PROTO, "utf8"),
        },
      },
    },
  };
}

/** The AMQP header of a message whose body has no field for its signature. */
const signatureHeader = {
  type: "object",
  required: [SIGNATURE_HEADER],
  properties: {
    [SIGNATURE_HEADER]: {
      type: "string",
      description: "An EdDSA JWT by an executor, for this message's bytes (see task_status).",
    },
  },
};

/** The exact text of `schemas/asyncapi.yaml`. */
export function renderAsyncApi(): string {
  return stringify(asyncApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false });
}
