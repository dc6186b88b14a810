/** One benchmark job: what its handler does, and how it is scheduled. */
export interface BenchJob {
  bid: number;
  priority: number;
  sleepMs: number;
  failOnce: boolean;
  cpu: number;
}

/** What a target reports back to the harness. */
export interface Hooks {
  /** The shared handler body: call it inside the system's handler. */
  work(job: BenchJob): Promise<void>;
  /** The job completed, as the submitter sees it (as close as the system lets a submitter see it). */
  completed(bid: number): void;
}

/** A system under test, on its own backend, with a clean queue on every open(). */
export interface BenchTarget {
  readonly name: string;
  readonly backend: string;
  /** How `completed` is observed, for the report. */
  readonly completionSeenBy: string;
  /** The PostgreSQL database it writes to, once open: the bench counts the row versions per job there. */
  readonly databaseUrl?: string | undefined;
  /** A cap on jobs per scenario for a system too slow for the full sizes (rates stay comparable). */
  readonly maxJobs?: number;
  open(hooks: Hooks, options: { concurrency: number }): Promise<void>;
  submitBulk(jobs: readonly BenchJob[]): Promise<void>;
  submitOne(job: BenchJob): Promise<void>;
  close(): Promise<void>;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
}
