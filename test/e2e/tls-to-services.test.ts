// Issue 26.5: TLS to the broker (amqps://, the broker's certificate checked against our CA, and
// a client certificate) and to PostgreSQL (sslmode=verify-full, TLS 1.3). A RabbitMQ node and a
// PostgreSQL cluster of the test's own, each serving TLS with certificates made by openssl; a
// distributed api and worker run a task over both.
import amqplib from "amqplib";
import pg from "pg";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestCertificates, makeCertificates } from "../helpers/certificates.js";
import { adminHeaders, startDistributed, submitMessage, waitFor } from "../helpers/cluster.js";
import { type PostgresCluster, postgresBin, startPostgresCluster } from "../helpers/postgres-cluster.js";
import { canStartRabbitNode, type RabbitNode, startRabbitNode } from "../helpers/rabbitmq-node.js";
import { killServes } from "../helpers/serve.js";
import { tempDir } from "../helpers/temp.js";

const available = (await canStartRabbitNode()) && postgresBin() !== undefined;

/** Whether a broker connection with these TLS options opens, or why not. */
async function amqpsWith(url: string, tls: Record<string, Buffer | undefined>): Promise<string> {
  try {
    const connection = await amqplib.connect(url, { ...tls, timeout: 5_000 });
    await connection.close();
    return "connected";
  } catch (error) {
    return (error as Error).message;
  }
}

describe.runIf(available)("TLS to the broker and the database (issue 26.5)", () => {
  const tmp = tempDir();
  let certs: TestCertificates;
  let stranger: TestCertificates;
  let node: RabbitNode;
  let cluster: PostgresCluster;

  beforeAll(async () => {
    certs = makeCertificates(tmp.dir, "ours");
    stranger = makeCertificates(tmp.dir, "stranger");
    [node, cluster] = await Promise.all([startRabbitNode({ tls: certs }), startPostgresCluster(certs)]);
  }, 180_000);
  afterAll(async () => {
    killServes();
    await Promise.all([node?.stop(), cluster?.stop()]);
    tmp.remove();
  });

  it("refuses a broker connection without our CA, without a client certificate, or with another CA's", async () => {
    const url = node.tlsUrlFor("admin", "admin");
    const read = (file: string) => readFileSync(file);
    const ours = { ca: read(certs.ca), cert: read(certs.client.cert), key: read(certs.client.key) };
    expect(await amqpsWith(url, ours)).toBe("connected");
    // The broker's certificate is checked: the system's CAs do not know ours.
    expect(await amqpsWith(url, { cert: ours.cert, key: ours.key })).toMatch(/certificate/i);
    // The broker checks ours: none, or one another CA signed, is refused.
    expect(await amqpsWith(url, { ca: ours.ca })).not.toBe("connected");
    const theirs = { ca: ours.ca, cert: read(stranger.client.cert), key: read(stranger.client.key) };
    expect(await amqpsWith(url, theirs)).not.toBe("connected");
  });

  it("refuses a database connection in clear, or whose server certificate our CA did not sign", async () => {
    const plain = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${cluster.port}/taskexec?sslmode=disable`,
    });
    await expect(plain.connect()).rejects.toThrow(/no pg_hba.conf entry|SSL off/);
    const wrongCa = new pg.Client({ connectionString: cluster.url("taskexec", stranger.ca) });
    await expect(wrongCa.connect()).rejects.toThrow(/certificate/i);
  });

  it("runs a distributed cluster over amqps with client certificates and PostgreSQL with verify-full", async () => {
    const tls = {
      TASKEXEC_MESSAGE_BROKER_TLS__CA: certs.ca,
      TASKEXEC_MESSAGE_BROKER_TLS__CERT: certs.client.cert,
      TASKEXEC_MESSAGE_BROKER_TLS__KEY: certs.client.key,
      TASKEXEC_HEARTBEAT_MS: "300",
      TASKEXEC_POLL_MS: "300",
    };
    const urls = { database: cluster.url("taskexec", certs.ca), broker: node.tlsUrlFor("admin", "admin") };
    const api = await startDistributed("api", tmp.dir, "api", urls, tls);
    await startDistributed("worker", tmp.dir, "worker", urls, tls);
    const submitted = await fetch(`${api.url}/v1/tasks`, {
      method: "POST",
      headers: await adminHeaders(),
      body: JSON.stringify(submitMessage("sleep", { ms: 10 }, "over-tls")),
    });
    expect(submitted.status).toBe(202);
    const { header } = (await submitted.json()) as { header: { task_id: string } };
    await waitFor(
      "the task to complete over TLS",
      async () => {
        const task = await fetch(`${api.url}/v1/tasks/${header.task_id}`, { headers: await adminHeaders() });
        return ((await task.json()) as { state: string }).state === "completed";
      },
      30_000,
    );
    // Every connection our processes hold to the database is TLS 1.3.
    const admin = new pg.Client({ connectionString: cluster.url("taskexec", certs.ca) });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ ssl: boolean; version: string | null }>(
        "SELECT s.ssl, s.version FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'taskexec' AND a.pid <> pg_backend_pid()",
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.ssl && r.version === "TLSv1.3")).toBe(true);
    } finally {
      await admin.end();
    }
  }, 120_000);

  it("names the broker TLS file it cannot read, and does not start", async () => {
    const urls = { database: cluster.url("taskexec", certs.ca), broker: node.tlsUrlFor("admin", "admin") };
    await expect(
      startDistributed("worker", tmp.dir, "bad-tls", urls, {
        TASKEXEC_MESSAGE_BROKER_TLS__CA: "/no/such/ca.pem",
      }),
    ).rejects.toThrow(/message_broker_tls\.ca/);
  }, 60_000);
});
