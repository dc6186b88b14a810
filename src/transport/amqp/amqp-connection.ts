import amqplib, { type ChannelModel, type RecoveringChannelModel } from "amqplib";
import { ensureTopology } from "./topology.js";

/** Runs on every (re)connect with that connection, after the topology is declared. */
export type ConnectionSetup = (model: ChannelModel) => Promise<void>;

export interface AmqpConnectionOptions {
  /** `amqp://user:password@host:5672/vhost` (`amqps://` for TLS). */
  url: string;
  /** Shown in the broker's connection list (the process's node). */
  name: string;
  /** Told of connection losses and failed setups; recovery goes on by itself. */
  onError?: (error: Error) => void;
  /** Told of each loss of the connection (amqplib reconnects by itself). */
  onLost?: (() => void) | undefined;
  /**
   * With `amqps://`: the CA the broker's certificate must chain to (else the system's), and a
   * client certificate and key. The broker's name is checked against its certificate either way.
   */
  tls?: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string } | undefined;
}

/**
 * One connection to the broker, recovered by amqplib itself (`recovery`: doubling backoff with
 * jitter, forever once connected; three retries at start-up so a wrong URL fails the start). A
 * reconnect loses every channel, so what uses the broker attaches a setup that makes its channels,
 * queues and consumers again; the topology is declared before each of them, on every connect.
 */
export class AmqpConnection {
  #model: RecoveringChannelModel | undefined;
  readonly #setups = new Set<ConnectionSetup>();
  readonly #onError: (error: Error) => void;
  /** The live connection, between a setup and the next loss. */
  #current: ChannelModel | undefined;

  private constructor(onError: (error: Error) => void) {
    this.#onError = onError;
  }

  static async open(options: AmqpConnectionOptions): Promise<AmqpConnection> {
    const connection = new AmqpConnection(options.onError ?? (() => {}));
    const model = await amqplib.connect(options.url, {
      ...options.tls,
      clientProperties: { connection_name: options.name },
      // A message is several frames written one by one: with Nagle's algorithm on, the last
      // waits for the server's delayed ack, about 40 ms per publish that finds the socket idle.
      noDelay: true,
      recovery: {
        initialDelay: 100,
        maxDelay: 5_000,
        initialMaxRetries: 3,
        maxRetries: Number.POSITIVE_INFINITY,
        waitForConnect: false,
        setup: (raw: ChannelModel) => connection.#connected(raw),
      },
    });
    connection.#model = model;
    model.on("disconnect", (error: Error) => {
      connection.#current = undefined;
      options.onLost?.();
      connection.#onError(error);
    });
    model.on("error", (error: Error) => connection.#onError(error));
    try {
      await model.waitForConnect();
    } catch (error) {
      await model.close().catch(() => {});
      throw error;
    }
    return connection;
  }

  /** Whether the broker is connected now (for `/readyz`). */
  get connected(): boolean {
    return this.#current !== undefined;
  }

  /**
   * Runs `setup` now (when connected) and after every reconnect; resolves once it ran. The
   * returned function stops running it again.
   */
  async attach(setup: ConnectionSetup): Promise<() => void> {
    this.#setups.add(setup);
    if (this.#current !== undefined) await setup(this.#current);
    return () => this.#setups.delete(setup);
  }

  async close(): Promise<void> {
    this.#setups.clear();
    this.#current = undefined;
    await this.#model?.close().catch(() => {});
  }

  /** A (re)connect: the topology first, then each attached setup (one that fails is reported). */
  async #connected(raw: ChannelModel): Promise<void> {
    await ensureTopology(raw);
    this.#current = raw;
    for (const setup of this.#setups)
      await setup(raw).catch((error: unknown) => this.#onError(error as Error));
  }
}
