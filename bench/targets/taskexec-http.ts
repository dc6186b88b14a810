import { join } from "node:path";
import { type Service, startService } from "../../src/api/service.js";
import { compileOptions } from "../../src/config/options.js";
import { TaskClient } from "../../src/index.js";
import { signToken } from "../../src/security/token-signer.js";
import type { BenchJob, BenchTarget, Hooks } from "../types.js";
import { scratchDir } from "./scratch.js";
import { benchHandler, reportCompletions, toRequest } from "./taskexec-library.js";

const SECRET = "bench-secret-bench-secret-bench-secret-0";

/** taskexec embedded behind its HTTP API, driven by the HTTP TaskClient (same process, loopback). */
export class TaskexecHttpTarget implements BenchTarget {
  readonly name = "taskexec (HTTP)";
  readonly backend = "SQLite file, fsync before every announcement; HTTP on loopback";
  readonly completionSeenBy = "the server's status stream (after the completion is on disk)";
  #service: Service | undefined;
  #client: TaskClient | undefined;
  #scratch: ReturnType<typeof scratchDir> | undefined;

  async open(hooks: Hooks, options: { concurrency: number }): Promise<void> {
    this.#scratch = scratchDir();
    this.#service = await startService(
      compileOptions({
        data_dir: this.#scratch.dir,
        store: { url: `sqlite:${join(this.#scratch.dir, "bench.db")}` },
        http: { port: 0 },
        auth: { jwt_secret: SECRET },
        limits: { submit_per_minute: 100_000_000 },
        max_concurrent_tasks: options.concurrency,
        resources: { cpu: 16, memory_mb: 16_384, gpu: 0 },
        retry: { base_ms: 10, max_ms: 10 },
        logging: { level: "silent" },
        handlers: [benchHandler(hooks)],
      }),
    );
    reportCompletions(this.#service.executor.engine, hooks);
    this.#client = new TaskClient({
      url: this.#service.url,
      token: await signToken(SECRET, { sub: "bench", roles: ["submitter"], ttl: "1d" }),
    });
  }

  async submitBulk(jobs: readonly BenchJob[]): Promise<void> {
    await this.#client!.submitMany(jobs.map(toRequest));
  }

  async submitOne(job: BenchJob): Promise<void> {
    await this.#client!.submit(toRequest(job));
  }

  async close(): Promise<void> {
    await this.#service?.close(0);
    this.#scratch?.remove();
  }
}
