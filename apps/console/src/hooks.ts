/** Hooks the pages share: a ticking clock and polling while the page is shown. */
import { useEffect, useRef, useState } from 'preact/hooks';

/** `Date.now()`, updated every `intervalMs`. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/**
 * Calls `load` now and then every `intervalMs` while `active` (the page is shown) and the document
 * visible; a call does not start before the previous one ended. `refresh()` loads at once.
 */
export function usePolling(
  load: (signal: AbortSignal) => Promise<void>,
  intervalMs: number,
  active: boolean,
): () => void {
  const latest = useRef(load);
  latest.current = load;
  const trigger = useRef<() => void>(() => {});
  useEffect(() => {
    if (!active) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let busy = false;
    const tick = async () => {
      clearTimeout(timer);
      if (busy || controller.signal.aborted) return;
      busy = true;
      try {
        if (document.visibilityState !== 'hidden') await latest.current(controller.signal);
      } finally {
        busy = false;
        if (!controller.signal.aborted) timer = setTimeout(tick, intervalMs);
      }
    };
    trigger.current = () => void tick();
    void tick();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [intervalMs, active]);
  return () => trigger.current();
}
