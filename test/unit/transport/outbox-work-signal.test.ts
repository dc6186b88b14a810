import { describe, expect, it } from "vitest";
import { OutboxWorkSignal } from "../../../src/transport/amqp/outbox-work-signal.js";

/** A promise and its settling functions. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("OutboxWorkSignal (the api's: it wakes the outbox relay)", () => {
  it("wakes the relay once the work is written, not when it is announced", async () => {
    let wakes = 0;
    const signal = new OutboxWorkSignal(() => (wakes += 1));
    const written = deferred<readonly string[]>();
    signal.ready({ tasks: [], written: written.promise });
    await turn();
    expect(wakes).toBe(0); // a pass now would find an outbox the insert has not committed to
    written.resolve(["t-1"]);
    await turn();
    expect(wakes).toBe(1);
  });

  it("hands nothing to this process's listeners: work reaches a worker only through the broker, claimed", async () => {
    const signal = new OutboxWorkSignal(() => {});
    const heard: string[] = [];
    await signal.listen({ ready: () => heard.push("ready"), mayBeReady: () => heard.push("mayBeReady") });
    signal.ready({ tasks: [], written: Promise.resolve(["t-1"]) });
    await signal.mayBeReady();
    await turn();
    expect(heard).toEqual([]);
  });

  it("does not wake it for work that was never written (a duplicate submission)", async () => {
    let wakes = 0;
    const signal = new OutboxWorkSignal(() => (wakes += 1));
    const written = deferred<readonly string[]>();
    signal.ready({ tasks: [], written: written.promise });
    written.reject(new Error("none written"));
    await turn();
    expect(wakes).toBe(0);
    await signal.mayBeReady();
    expect(wakes).toBe(1);
  });
});
