// Data the page reads again while what it shows is still changing.
import { useEffect, useRef, useState } from "react";

export function usePolled<T>(
  load: (signal: AbortSignal) => Promise<T>,
  key: string,
  live: (data: T | undefined) => boolean,
  everyMs = 2500,
  identity: string = key,
): { data: T | undefined; error: unknown; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const latest = useRef<T | undefined>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const liveRef = useRef(live);
  liveRef.current = live;
  useEffect(() => {
    latest.current = undefined;
    setData(undefined);
  }, [identity]);
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    loadRef
      .current(controller.signal)
      .then((found) => {
        latest.current = found;
        setData(found);
        setError(null);
      })
      .catch((exc: unknown) => {
        if ((exc as Error).name !== "AbortError") setError(exc);
      })
      .finally(() => {
        if (!controller.signal.aborted && liveRef.current(latest.current)) {
          timer = setTimeout(() => setTick((n) => n + 1), everyMs);
        }
      });
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [key, tick, everyMs]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}
