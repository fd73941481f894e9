// The page's own place in the URL (plan, view, lot, filters), with the browser's back and forward.
import { useCallback, useEffect, useState } from "react";

export function useRoute(): [
  URLSearchParams,
  (changes: Record<string, string | null>, replace?: boolean) => void,
] {
  const [search, setSearch] = useState(() => globalThis.location.search);
  useEffect(() => {
    const onPop = () => setSearch(globalThis.location.search);
    globalThis.addEventListener("popstate", onPop);
    return () => globalThis.removeEventListener("popstate", onPop);
  }, []);
  const go = useCallback((changes: Record<string, string | null>, replace = false) => {
    const params = new URLSearchParams(globalThis.location.search);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null || value === "") params.delete(key);
      else params.set(key, value);
    }
    const text = params.toString();
    const url = `${globalThis.location.pathname}${text ? `?${text}` : ""}`;
    if (replace) globalThis.history.replaceState(globalThis.history.state, "", url);
    else globalThis.history.pushState(globalThis.history.state, "", url);
    setSearch(globalThis.location.search);
  }, []);
  return [new URLSearchParams(search), go];
}

/** Loads with ``load`` now, whenever ``key`` changes, and every ``everyMs`` while ``live``. What was
 * loaded stays shown while it reloads, unless ``identity`` (what is shown) changes. */
