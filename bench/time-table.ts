/**
 * A time per job id, for the ids 0…n-1 a scenario uses, in a growing Float64Array (NaN: none),
 * with a Map for any other id (the warm-up's). A Map of numbers would allocate a heap number per
 * entry that survives every young-generation collection until the run ends: the harness's own
 * garbage-collection pauses would then show in the latency tail of whatever system it measures.
 */
export class TimeTable {
  #values = new Float64Array(1024).fill(Number.NaN);
  readonly #others = new Map<number, number>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  get(id: number): number | undefined {
    if (!TimeTable.#indexed(id)) return this.#others.get(id);
    const value = id < this.#values.length ? this.#values[id]! : Number.NaN;
    return Number.isNaN(value) ? undefined : value;
  }

  set(id: number, at: number): void {
    if (!TimeTable.#indexed(id)) {
      if (!this.#others.has(id)) this.#size += 1;
      this.#others.set(id, at);
      return;
    }
    if (id >= this.#values.length) this.#grow(id + 1);
    if (Number.isNaN(this.#values[id]!)) this.#size += 1;
    this.#values[id] = at;
  }

  clear(): void {
    this.#values.fill(Number.NaN);
    this.#others.clear();
    this.#size = 0;
  }

  /** Each id with a time, and the time. */
  *entries(): Generator<[number, number]> {
    for (let id = 0; id < this.#values.length; id++) {
      const value = this.#values[id]!;
      if (!Number.isNaN(value)) yield [id, value];
    }
    yield* this.#others;
  }

  static #indexed(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < 10_000_000;
  }

  #grow(atLeast: number): void {
    let length = this.#values.length;
    while (length < atLeast) length *= 2;
    const values = new Float64Array(length).fill(Number.NaN);
    values.set(this.#values);
    this.#values = values;
  }
}
