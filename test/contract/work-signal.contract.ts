// The WorkSignal port's definition: every transport runs this same suite (see *-work-signal.test.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { writtenWork, type ReadyWork } from "../../src/domain/records.js";
import type { WorkListener, WorkSignal } from "../../src/transport/work-signal.js";
import { newRecord } from "../../src/store/change-plan.js";
import { newTask } from "../helpers/tasks.js";

export interface SignalHarness {
  signal: WorkSignal;
  /**
   * Another process's signal on the same backend, for transports that reach others
   * (`reachesOthers`); undefined for one that cannot.
   */
  peer?: () => Promise<WorkSignal>;
  /** Told of listener errors the signal caught. */
  errors: unknown[];
  cleanup: () => Promise<void>;
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

function readyWork(n: number): ReadyWork {
  return writtenWork(Array.from({ length: n }, (_, i) => newRecord(newTask(), i + 1)));
}

export function describeWorkSignalContract(transport: string, open: () => Promise<SignalHarness>): void {
  describe(`WorkSignal contract: ${transport}`, () => {
    let h: SignalHarness;
    beforeEach(async () => {
      h = await open();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it("hands ready work to every listener of this process before `ready` returns, as it was given", async () => {
      const a = recorder();
      const b = recorder();
      await h.signal.listen(a);
      await h.signal.listen(b);
      const work = readyWork(3);
      h.signal.ready(work);
      expect(a.heard).toEqual(["ready 3"]);
      expect(b.work[0]).toBe(work);
    });

    it("tells this process's listeners that work may be ready", async () => {
      const a = recorder();
      await h.signal.listen(a);
      await h.signal.mayBeReady();
      expect(a.heard).toEqual(["may be ready"]);
    });

    it("stops telling a listener once it stopped listening", async () => {
      const a = recorder();
      const b = recorder();
      const stop = await h.signal.listen(a);
      await h.signal.listen(b);
      await stop();
      h.signal.ready(readyWork(1));
      await h.signal.mayBeReady();
      expect(a.heard).toEqual([]);
      expect(b.heard).toEqual(["ready 1", "may be ready"]);
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
      h.signal.ready(readyWork(2));
      await h.signal.mayBeReady();
      expect(b.heard).toEqual(["ready 2", "may be ready"]);
      expect(h.errors.map((e) => (e as Error).message)).toEqual(["boom", "bang"]);
    });

    it("reaches the listeners of other processes with `mayBeReady`, when it says it does", async () => {
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
  });
}
