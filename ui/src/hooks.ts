import { useEffect, useState } from "preact/hooks";

/** The current time, refreshed every `everyMs` (for ages that must keep counting). */
export function useNow(everyMs = 5_000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** Runs `load` now and every `everyMs` while mounted and the page is visible. */
export function usePolling(load: () => Promise<void>, everyMs: number, deps: unknown[] = []): void {
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (!document.hidden) await load().catch(() => undefined);
      if (!stopped) timer = setTimeout(() => void tick(), everyMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, deps);
}

/** How often a view that follows the live feed reloads at most while changes stream in. */
const LIVE_RELOAD_MS = 1_000;

/**
 * Runs `load` now, every `everyMs`, and at most once a second after the live feed reports a
 * change: views that use it (the counts, the resources) move together instead of each at its
 * own pace.
 */
export function useLiveReload(
  feed: { subscribe(listener: () => void): () => void },
  load: () => Promise<void>,
  everyMs: number,
  deps: unknown[] = [],
): void {
  usePolling(load, everyMs, deps);
  useEffect(() => {
    let pending: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = feed.subscribe(() => {
      pending ??= setTimeout(() => {
        pending = undefined;
        void load().catch(() => undefined);
      }, LIVE_RELOAD_MS);
    });
    return () => {
      unsubscribe();
      clearTimeout(pending);
    };
  }, [feed, ...deps]);
}
