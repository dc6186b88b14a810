import { describe, expect, it, vi } from "vitest";
import { AmqpConnection } from "../../src/transport/amqp/amqp-connection.js";
import { AmqpStatusBus } from "../../src/transport/amqp/amqp-status-bus.js";
import amqplib from "amqplib";
import { decodeJwt } from "jose";
import { compileOptions } from "../../src/config/options.js";
import { MessageSigner, MessageVerifier, signingKey } from "../../src/security/message-signature.js";
import { signToken } from "../../src/security/token-signer.js";
import { createTokenVerifier } from "../../src/security/token-verifier.js";
import { REASON_HEADER } from "../../src/transport/amqp/dead-letter.js";
import { EXCHANGES, QUEUES } from "../../src/transport/amqp/topology.js";
import {
  closeConnections,
  createTestVhost,
  observeStatuses,
  rabbitForTests,
  shutOut,
} from "../helpers/rabbitmq.js";
import { TEST_SECRET } from "../helpers/service.js";
import { describeStatusBusContract, routed, status } from "./status-bus.contract.js";

const available = await rabbitForTests();

const clusterKey = await signingKey({ secret: TEST_SECRET });
const verifier = new MessageVerifier({ keys: [clusterKey.publicJwk] });

/**
 * A bus on a connection of its own, closed together, as workers and the API run it: each status
 * signed for itself with the process's executor principal, and only executors' statuses heard.
 */
async function openBus(url: string, name: string, errors: unknown[] = []) {
  const connection = await AmqpConnection.open({ url, name });
  const signer = new MessageSigner(clusterKey, name, ["executor"]);
  const bus = await AmqpStatusBus.open(connection, {
    onError: (error) => errors.push(error),
    sign: (message) => signer.sign(message),
    verify: async (signature, message, options) =>
      (await verifier.verify(signature, message, options)).roles.some(
        (r) => r === "executor" || r === "admin",
      ),
  });
  return Object.assign(bus, {
    close: async () => {
      await AmqpStatusBus.prototype.close.call(bus);
      await connection.close();
    },
  });
}

describe.runIf(available)("RabbitMQ", () => {
  describeStatusBusContract(
    "amqp",
    async () => {
      const vhost = await createTestVhost();
      const bus = await openBus(vhost.url, "node-a");
      return {
        bus,
        settle: async () => {},
        peer: () => openBus(vhost.url, "node-b"),
        cleanup: async () => {
          await bus.close();
          await vhost.remove();
        },
      };
    },
    { acrossProcesses: true },
  );

  it("hears other processes again after its connection is cut, on a queue and bindings made anew", async () => {
    const vhost = await createTestVhost();
    const errors: unknown[] = [];
    const here = await openBus(vhost.url, "node-a", errors);
    const there = await openBus(vhost.url, "node-b");
    try {
      const heard: number[] = [];
      await here.subscribe("t1", (s) => heard.push(s.header.sequence));
      await there.publish([routed("t1", 1)]);
      await vi.waitFor(() => expect(heard).toEqual([1]));
      await closeConnections(vhost.name);
      // Both lost their connection: each publish waits for its channel to be back.
      let sequence = 1;
      await vi.waitFor(
        async () => {
          await there.publish([routed("t1", ++sequence)]);
          expect(heard.length).toBeGreaterThan(1);
        },
        { timeout: 15_000, interval: 500 },
      );
      // What was published while it reconnected may be lost (watchers read it from the store);
      // what comes after is heard.
      await vi.waitFor(() => expect(heard[heard.length - 1]).toBe(sequence));
      expect(errors).toEqual([]);
    } finally {
      await here.close();
      await there.close();
      await vhost.remove();
    }
  }, 30_000);

  it("lets a submitter's client hear that submitter's statuses and rejections alone, each duplicate answer marked", async () => {
    const vhost = await createTestVhost();
    const api = await openBus(vhost.url, "api");
    const client = await openBus(vhost.url, "client");
    try {
      const heard: [string, number, boolean][] = [];
      const stop = await client.listenSubmitter("alice.smith", (s, duplicate) =>
        heard.push([s.header.task_id ?? "rejected", s.header.sequence, duplicate]),
      );
      const rejection = {
        ...status("x", 1, "rejected"),
        header: { ...status("x", 1).header, task_id: null },
      };
      await api.publish([
        routed("t1", 1, "submitted", "alice.smith"),
        routed("t2", 1, "submitted", "bob"),
        routed("t3", 1, "submitted", "smith"), // a submitter whose name ends like alice's
        { submitter: "alice.smith", status: rejection },
        { ...routed("t1", 2, "completed", "alice.smith"), duplicate: true },
      ]);
      await vi.waitFor(() => expect(heard).toHaveLength(3));
      expect(heard).toEqual([
        ["t1", 1, false],
        ["rejected", 1, false],
        ["t1", 2, true],
      ]);
      stop();
      await api.publish([routed("t1", 3, "completed", "alice.smith")]);
      await new Promise((r) => setTimeout(r, 300));
      expect(heard).toHaveLength(3);
    } finally {
      await api.close();
      await client.close();
      await vhost.remove();
    }
  });

  it("hears only statuses an executor signed for themselves, without the signature; dead-letters the others with why", async () => {
    const vhost = await createTestVhost();
    const errors: unknown[] = [];
    const api = await openBus(vhost.url, "api", errors);
    const worker = await openBus(vhost.url, "worker");
    const raw = await amqplib.connect(vhost.url);
    try {
      const heard: unknown[] = [];
      await api.subscribeAll((s) => heard.push(s.header));
      const channel = await raw.createConfirmChannel();
      // What a reader of the worker's statuses sees: the signature of each in its header.auth.
      const { queue: spy } = await channel.assertQueue("", { exclusive: true });
      await channel.bindQueue(spy, EXCHANGES.status, "#");
      const forge = async (auth: string | undefined, sequence: number) => {
        const s = status("t1", sequence);
        const message = auth === undefined ? s : { ...s, header: { ...s.header, auth } };
        channel.publish(EXCHANGES.status, "alice.t1", Buffer.from(JSON.stringify(message)));
        await channel.waitForConfirms();
      };
      await forge(undefined, 1);
      await forge(await signToken(TEST_SECRET, { sub: "alice", roles: ["submitter"], ttl: "1h" }), 2);
      await forge(
        await signToken("another-secret-another-secret-0123456789", {
          sub: "w",
          roles: ["executor"],
          ttl: "1h",
        }),
        3,
      );
      // An executor's plain bearer token is no signature of a message (issue 25.5).
      await forge(await signToken(TEST_SECRET, { sub: "worker:w2", roles: ["executor"], ttl: "1h" }), 5);
      channel.publish(EXCHANGES.status, "alice.t1", Buffer.from("not json"));
      await worker.publish([routed("t1", 4)]);
      await vi.waitFor(() => expect(heard).toHaveLength(1));
      expect(heard[0]).toMatchObject({ task_id: "t1", sequence: 4 });
      expect(heard[0]).not.toHaveProperty("auth");
      // The worker's real signature, lifted off its status onto a forged one, is refused...
      let lifted: string | undefined;
      let original: Buffer | undefined;
      await vi.waitFor(async () => {
        for (
          let m = await channel.get(spy, { noAck: true });
          m !== false;
          m = await channel.get(spy, { noAck: true })
        ) {
          const { header } = JSON.parse(m.content.toString()) as {
            header: { auth: string; sequence: number };
          };
          if (header.sequence === 4) [lifted, original] = [header.auth, m.content];
        }
        expect(lifted).toBeDefined();
      });
      await forge(lifted, 6);
      // ...and the worker's status published again whole is refused as a replay (seen before).
      channel.publish(EXCHANGES.status, "alice.t1", original!);
      await channel.waitForConfirms();
      // ...and so is it over HTTP: it is no credential.
      const http = createTokenVerifier(compileOptions({ auth: { jwt_secret: TEST_SECRET } }).auth);
      await expect(http.verify(lifted!)).rejects.toMatchObject({ code: "unauthenticated" });
      const reasons: string[] = [];
      // Taken off the queue as they arrive, across tries.
      await vi.waitFor(async () => {
        for (
          let m = await channel.get(QUEUES.dead, { noAck: true });
          m !== false;
          m = await channel.get(QUEUES.dead, { noAck: true })
        )
          reasons.push(String(m.properties.headers?.[REASON_HEADER]));
        expect(reasons).toHaveLength(7);
      });
      expect(reasons.sort()).toEqual([
        "not a task_status",
        ...Array.from(
          { length: 5 },
          () => "unauthenticated: header.auth is not an executor's valid signature of this status",
        ),
        "unauthenticated: header.auth must hold an executor's signature",
      ]);
      expect(heard).toHaveLength(1);
    } finally {
      await raw.close();
      await api.close();
      await worker.close();
      await vhost.remove();
    }
  });

  it("signs what it held for an absent broker as it goes out, so that an outage longer than the readers' window refuses none", async () => {
    const vhost = await createTestVhost();
    const connection = await AmqpConnection.open({ url: vhost.url, name: "node-a" });
    const queue = await observeStatuses(vhost.url);
    const signer = new MessageSigner(clusterKey, "node-a", ["executor"], 1_000);
    const bus = await AmqpStatusBus.open(connection, { sign: (message) => signer.sign(message) });
    try {
      const letIn = await shutOut(vhost.name);
      await vi.waitFor(() => expect(connection.connected).toBe(false));
      const published = bus.publish([1, 2, 3].map((n) => routed("t1", n)));
      // Away longer than the signatures' 1 s life.
      await new Promise((r) => setTimeout(r, 2_000));
      const back = Math.floor(Date.now() / 1000);
      await letIn();
      await published;
      const reader = await amqplib.connect(vhost.url);
      const channel = await reader.createChannel();
      const signedAt: number[] = [];
      for (let m = await channel.get(queue); m !== false; m = await channel.get(queue)) {
        const { auth } = (JSON.parse(m.content.toString()) as { header: { auth: string } }).header;
        signedAt.push(decodeJwt(auth).iat!);
      }
      await reader.close();
      expect(signedAt).toHaveLength(3);
      expect(signedAt.every((iat) => iat >= back)).toBe(true);
    } finally {
      await bus.close();
      await connection.close();
      await vhost.remove();
    }
  }, 30_000);

  it("holds statuses for an absent broker up to maxWaiting, drops the rest, and says so once it is back", async () => {
    const vhost = await createTestVhost();
    const connection = await AmqpConnection.open({ url: vhost.url, name: "node-a" });
    const queue = await observeStatuses(vhost.url); // what the broker carries
    const errors: unknown[] = [];
    const dropped: [number, number][] = [];
    const bus = await AmqpStatusBus.open(connection, {
      onError: (error) => errors.push(error),
      maxWaiting: 5,
      afterDropping: (since, count) => dropped.push([since, count]),
    });
    try {
      const heardHere: number[] = [];
      await bus.subscribe("t1", (s) => heardHere.push(s.header.sequence));
      const awayFrom = Date.now();
      const letIn = await shutOut(vhost.name);
      await vi.waitFor(() => expect(connection.connected).toBe(false));
      const published = [
        bus.publish([1, 2, 3, 4].map((n) => routed("t1", n))), // waits
        bus.publish([5, 6].map((n) => routed("t1", n))), // 4 + 2 > 5: dropped
        bus.publish([routed("t1", 7)]), // 4 + 1: waits
      ];
      await published[1]; // settles at once, with nothing to wait for
      expect(errors.map(String)).toEqual([expect.stringMatching(/broker is away .* dropped from memory/)]);
      expect(dropped).toEqual([]); // not until the broker is back
      await letIn();
      await Promise.all(published);
      expect(dropped).toEqual([[expect.any(Number), 2]]);
      expect(dropped[0]![0]).toBeGreaterThanOrEqual(awayFrom);
      expect(heardHere).toEqual([1, 2, 3, 4, 5, 6, 7]); // listeners here hear everything at once
      const reader = await amqplib.connect(vhost.url);
      const sequences: number[] = [];
      const readChannel = await reader.createChannel();
      for (let m = await readChannel.get(queue); m !== false; m = await readChannel.get(queue))
        sequences.push(
          (JSON.parse(m.content.toString()) as { header: { sequence: number } }).header.sequence,
        );
      await reader.close();
      expect(sequences).toEqual([1, 2, 3, 4, 7]);
      // The next outage starts counting afresh.
      await bus.publish([routed("t1", 8)]);
      expect(dropped).toHaveLength(1);
    } finally {
      await bus.close();
      await connection.close();
      await vhost.remove();
    }
  });
});
