// The WorkSignal port's definition: every transport runs this same suite (see *-work-signal.test.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { writtenWork, type ReadyWork } from "../../src/domain/records.js";
import type { WorkListener, WorkSignal } from "../../src/transport/work-signal.js";
import { newRecord } from "../../src/store/change-plan.js";
import { newTask } from "../helpers/tasks.js";

export interface SignalHarness {
  signal: WorkSignal;
  /**
   * Another process's signal on the same backend: one that hears `mayBeReady` (`reachesOthers`),
   * or, where work goes through the broker, a worker that takes work from it; undefined for a
   * transport that reaches no other process.
   */
  peer?: () => Promise<WorkSignal>;
  /** Where work goes through the broker (`goesThroughBroker`): real tasks, and what reached it. */
  broker?: BrokerSide;
  /** Told of listener errors the signal caught. */
  errors: unknown[];
  cleanup: () => Promise<void>;
}

export interface BrokerSide {
  /** Writes n ready tasks to the store (its outbox holds their work), as a submission does. */
  submit(n: number): Promise<ReadyWork>;
  /** Takes off the broker's queue the work messages waiting there, and names their tasks. */
  takeWaiting(): Promise<string[]>;
  /** The nodes whose claims work handed over here, and to the peer, carries. */
  node: string;
  peerNode: string;
}

/** A listener that records what it hears. */
function recorder(): WorkListener & { heard: string[]; work: ReadyWork[] } {
  const heard: string[] = [];
  const work: ReadyWork[] = [];
  return {
    heard,
    work,
    ready: (w) => {
      work.push(w);
      heard.push(`ready ${w.tasks.length}`);
    },
    mayBeReady: () => heard.push("may be ready"),
  };
}
type Recorder = ReturnType<typeof recorder>;

function readyWork(n: number): ReadyWork {
  return writtenWork(Array.from({ length: n }, (_, i) => newRecord(newTask(), i + 1)));
}

const idsOf = (work: ReadyWork) => work.tasks.map((t) => t.id).sort();
const tasksHeard = (listener: Recorder) => listener.work.flatMap((w) => w.tasks);
const idsHeard = (listener: Recorder) =>
  tasksHeard(listener)
    .map((t) => t.id)
    .sort();

export function describeWorkSignalContract(transport: string, open: () => Promise<SignalHarness>): void {
  describe(`WorkSignal contract: ${transport}`, () => {
    let h: SignalHarness;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    /** n ready tasks: real ones in the store where work goes through the broker. */
    const makeReady = (n: number): Promise<ReadyWork> =>
      h.signal.goesThroughBroker ? h.broker!.submit(n) : Promise.resolve(readyWork(n));

    /**
     * Waits until `work` went where this transport sends it: to the `hearing` listeners of this
     * process (at once, or as the broker delivers it, claimed for this node and then taken), or,
     * where this process takes no work from the broker, onto the broker with no listener told;
     * never to the `deaf` ones.
     */
    async function expectHandedOver(work: ReadyWork, hearing: Recorder[], deaf: Recorder[] = []) {
      const ids = idsOf(work);
      if (!h.signal.goesThroughBroker) {
        for (const listener of hearing) expect(idsHeard(listener)).toEqual(ids);
      } else if (h.signal.handsOverClaimed) {
        await vi.waitFor(() => {
          for (const listener of hearing) expect(idsHeard(listener)).toEqual(ids);
        }, 10_000);
        for (const listener of hearing)
          for (const task of tasksHeard(listener)) expect(task.leaseOwner).toBe(h.broker!.node);
        h.signal.taken(ids);
      } else {
        const reached: string[] = [];
        await vi.waitFor(async () => {
          reached.push(...(await h.broker!.takeWaiting()));
          expect(reached.sort()).toEqual(ids);
        }, 10_000);
        for (const listener of [...hearing, ...deaf]) expect(listener.heard).toEqual([]);
      }
      for (const listener of deaf) expect(listener.work).toEqual([]);
    }

    it("hands ready work to every listener of this process as it was given: at once, or as the broker delivers it (claimed), or to none where this process takes no work from it", async () => {
      const a = recorder();
      const b = recorder();
      await h.signal.listen(a);
      await h.signal.listen(b);
      const work = await makeReady(3);
      h.signal.ready(work);
      if (h.signal.goesThroughBroker) {
        expect(a.heard).toEqual([]); // not at once: it goes out to the broker first
      } else {
        expect(a.heard).toEqual(["ready 3"]);
        expect(b.work[0]).toBe(work);
      }
      await expectHandedOver(work, [a, b]);
    });

    it("tells this process's listeners that work may be ready, or, through the broker, hands over the work another process wrote", async () => {
      const a = recorder();
      await h.signal.listen(a);
      if (!h.signal.goesThroughBroker) {
        await h.signal.mayBeReady();
        expect(a.heard).toEqual(["may be ready"]);
        return;
      }
      // Written and not announced here (another process's submission): `mayBeReady` sends it on.
      const work = await h.broker!.submit(2);
      await h.signal.mayBeReady();
      await expectHandedOver(work, [a]);
      expect(a.heard).not.toContain("may be ready");
    });

    it("stops telling a listener once it stopped listening", async () => {
      const a = recorder();
      const b = recorder();
      const stop = await h.signal.listen(a);
      await h.signal.listen(b);
      await stop();
      const work = await makeReady(1);
      h.signal.ready(work);
      await h.signal.mayBeReady();
      await expectHandedOver(work, [b], [a]);
      expect(a.heard).toEqual([]);
      if (!h.signal.goesThroughBroker) expect(b.heard).toEqual(["ready 1", "may be ready"]);
    });

    it("keeps telling the other listeners when one throws, and reports the error", async () => {
      const b = recorder();
      await h.signal.listen({
        ready: () => {
          throw new Error("boom");
        },
        mayBeReady: () => {
          throw new Error("bang");
        },
      });
      await h.signal.listen(b);
      const work = await makeReady(2);
      h.signal.ready(work);
      await h.signal.mayBeReady();
      await expectHandedOver(work, [b]);
      const told = h.errors.map((e) => (e as Error).message);
      if (!h.signal.goesThroughBroker) expect(told).toEqual(["boom", "bang"]);
      // Through the broker a worker's listeners hear only the work it delivered (once per batch
      // of deliveries claimed together), and an api's hear nothing.
      else if (h.signal.handsOverClaimed) expect(new Set(told)).toEqual(new Set(["boom"]));
      else expect(told).toEqual([]);
    });

    it("reaches the listeners of other processes: with `mayBeReady` when it says it does, or through the broker", async () => {
      if (h.signal.goesThroughBroker) {
        // Made ready here, with no listener here: a worker of another process gets it, claimed.
        const other = await h.peer!();
        try {
          const there = recorder();
          await other.listen(there);
          const work = await makeReady(2);
          h.signal.ready(work);
          await vi.waitFor(() => expect(idsHeard(there)).toEqual(idsOf(work)), 10_000);
          for (const task of tasksHeard(there)) expect(task.leaseOwner).toBe(h.broker!.peerNode);
          other.taken(idsOf(work));
        } finally {
          await other.close();
        }
        return;
      }
      if (!h.signal.reachesOthers) {
        expect(h.peer).toBeUndefined();
        return;
      }
      const other = await h.peer!();
      try {
        const there = recorder();
        const here = recorder();
        await other.listen(there);
        await h.signal.listen(here);
        await h.signal.mayBeReady();
        await vi.waitFor(() => expect(there.heard).toEqual(["may be ready"]));
        // Ready work is handed over in this process only: others hear of it from the backend.
        h.signal.ready(readyWork(1));
        await other.mayBeReady();
        await vi.waitFor(() => expect(here.heard).toEqual(["may be ready", "ready 1", "may be ready"]));
        // Each hears its own news once, not again as an echo.
        await new Promise((r) => setTimeout(r, 100));
        expect(there.heard).toEqual(["may be ready", "may be ready"]);
      } finally {
        await other.close();
      }
    });

    it("says whether the broker holds work waiting for a worker, where this process takes work from one", async () => {
      if (h.signal.carriesNoWork === undefined) {
        // Without it, ready work whose message was lost would never be announced again.
        expect(h.signal.goesThroughBroker && h.signal.handsOverClaimed).toBe(false);
        return;
      }
      expect(await h.signal.carriesNoWork()).toBe(true);
      // Nobody listens here: the work waits on the broker.
      const work = await makeReady(2);
      h.signal.ready(work);
      await vi.waitFor(async () => expect(await h.signal.carriesNoWork!()).toBe(false), 10_000);
      const a = recorder();
      await h.signal.listen(a);
      await expectHandedOver(work, [a]);
      await vi.waitFor(async () => expect(await h.signal.carriesNoWork!()).toBe(true));
    });
  });
}
