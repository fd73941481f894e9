// Run an effect after a pause in its inputs changing, aborting the one before.
import { useEffect, useRef } from "react";

export function useDelayed(effect: (signal: AbortSignal) => void, deps: unknown[], delayMs: number) {
  const effectRef = useRef(effect);
  effectRef.current = effect;
  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => effectRef.current(controller.signal), delayMs);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, delayMs]);
}
