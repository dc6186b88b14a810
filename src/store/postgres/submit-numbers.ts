/** How many numbers one reservation gives (the sequence's INCREMENT BY). */
export const BLOCK = 64;

/**
 * Submission numbers (FIFO order among equals, list cursors) for one process of many: reserved
 * from the database a block at a time, handed out from memory. A block is reserved ahead, before
 * the last one runs out, so a submission rarely waits for one.
 */
export class SubmitNumbers {
  /** Blocks not used up: [next, end). */
  readonly #ranges: [number, number][] = [];
  #available = 0;
  #ahead: Promise<void> | undefined;
  readonly #reserve: (blocks: number) => Promise<number[]>;

  /** `reserve(n)` returns the starts of n new blocks. */
  constructor(reserve: (blocks: number) => Promise<number[]>) {
    this.#reserve = reserve;
  }

  /** `n` unique numbers, increasing; synchronous when enough are at hand. */
  take(n: number): number[] | Promise<number[]> {
    if (this.#available >= n) return this.#takeNow(n);
    return this.#takeLater(n);
  }

  async #takeLater(n: number): Promise<number[]> {
    while (this.#available < n) {
      await this.#ahead;
      if (this.#available >= n) break;
      await this.#add(Math.ceil((n - this.#available) / BLOCK));
    }
    return this.#takeNow(n);
  }

  #takeNow(n: number): number[] {
    const out: number[] = [];
    while (out.length < n) {
      const range = this.#ranges[0]!;
      out.push(range[0]++);
      if (range[0] === range[1]) this.#ranges.shift();
    }
    this.#available -= n;
    if (this.#available < BLOCK / 2 && this.#ahead === undefined) {
      this.#ahead = this.#add(1)
        .catch(() => {}) // the next take reserves again, and reports a failure then
        .finally(() => (this.#ahead = undefined));
    }
    return out;
  }

  async #add(blocks: number): Promise<void> {
    const starts = await this.#reserve(blocks);
    for (const start of starts.sort((a, b) => a - b)) {
      this.#ranges.push([start, start + BLOCK]);
      this.#available += BLOCK;
    }
    this.#ranges.sort((a, b) => a[0] - b[0]);
  }
}
