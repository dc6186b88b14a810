import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { readBrokerTls } from "../../config/broker-tls.js";
import { loadConfig } from "../../config/load-config.js";
import { AmqpConnection } from "../../transport/amqp/amqp-connection.js";
import { BrokerAdmin, managementUrlOf, vhostOf } from "../../transport/amqp/broker-admin.js";
import { BROKER_ROLES, type BrokerRole, brokerPermissions } from "../../transport/amqp/broker-permissions.js";
import { UsageError } from "../cli-error.js";

interface BrokerOptions {
  config?: string;
  url?: string;
}

interface GrantOptions extends BrokerOptions {
  sub: string;
  role: string;
  user?: string;
  password?: string;
  management?: string;
}

/**
 * `taskexec broker setup` and `taskexec broker grant`: the broker of distributed mode made ready
 * by an administrator (its topology), and a broker user for each principal with only what its
 * role needs (see transport/amqp/broker-permissions.ts and docs/SECURITY.md).
 */
export function registerBroker(program: Command, run: (code: number) => void): void {
  const broker = program
    .command("broker")
    .description(
      "prepare RabbitMQ for distributed mode: its topology, and each principal's user and permissions",
    );
  const common = (command: Command) =>
    command
      .option("-c, --config <file>", "config file (default: ./config.yaml if present)")
      .option(
        "--url <amqp-url>",
        "the broker, with an administrator's credentials (default: message_broker_url)",
      );
  common(
    broker
      .command("setup")
      .description("declare the exchanges and queues of distributed mode (an administrator's credentials)"),
  ).action(async (options: BrokerOptions) => {
    const url = brokerUrl(options);
    const tls = readBrokerTls(loadConfig({ file: options.config }).options);
    const connection = await AmqpConnection.open({ url, name: "taskexec broker setup", tls });
    await connection.close();
    console.log(`the topology is declared on ${hostOf(url)} (vhost ${vhostOf(url)})`);
    console.log("next: `taskexec broker grant --sub <principal> --role submitter|worker|api` for each");
    run(0);
  });
  common(
    broker
      .command("grant")
      .description("create or update a principal's broker user with its role's permissions (management API)")
      .requiredOption(
        "--sub <principal>",
        "the principal: a submitter's token sub, or a name for a worker or api",
      )
      .requiredOption("--role <role>", BROKER_ROLES.join(", "))
      .option("--user <name>", "the broker user (default: the principal)")
      .option("--password <password>", "its password (default: a new random one for a new user, printed)")
      .option(
        "--management <url>",
        "the management API, http://admin:password@host:15672 (default: beside --url)",
      ),
  ).action(async (options: GrantOptions) => {
    if (!(BROKER_ROLES as readonly string[]).includes(options.role))
      throw new UsageError(`--role: use ${BROKER_ROLES.join(", ")}, not "${options.role}"`);
    if (options.sub === "") throw new UsageError("--sub: name the principal");
    const url = brokerUrl(options);
    const role = options.role as BrokerRole;
    const user = options.user ?? options.sub;
    const admin = new BrokerAdmin(options.management ?? managementUrlOf(url));
    const vhost = vhostOf(url);
    const created = await admin.grant(
      vhost,
      user,
      options.password,
      brokerPermissions(role, options.sub),
      () => randomBytes(18).toString("base64url"),
    );
    const who =
      role === "submitter" ? `the submitter ${options.sub}` : role === "api" ? "an api" : "a worker";
    console.log(`${user} may now act as ${who} in vhost ${vhost}`);
    if (created !== undefined) {
      const principalUrl = new URL(url);
      principalUrl.username = encodeURIComponent(user);
      principalUrl.password = encodeURIComponent(created);
      console.log(`its broker URL: ${principalUrl.toString()}`);
    }
    run(0);
  });
}

function brokerUrl(options: BrokerOptions): string {
  const url = options.url ?? loadConfig({ file: options.config }).options.message_broker_url;
  if (url === undefined)
    throw new UsageError(
      "name the broker: --url amqp://admin:password@host:5672/vhost, or message_broker_url",
    );
  if (!URL.canParse(url) || !/^amqps?:$/.test(new URL(url).protocol))
    throw new UsageError(`--url: the broker URL must start with amqp:// or amqps://, got ${url}`);
  return url;
}

function hostOf(url: string): string {
  return new URL(url).host;
}
