// Small pieces the three views share: badges, the progress bar, the calendar heatmap, errors, and
// the page's own place in the URL.
import { type ReactNode, useCallback, useEffect, useRef, useState } from "react";

import { ApiError, LOT_STATES, type Calendar, type CalendarCell } from "./api";
import { stateColor } from "./format";

export function StateBadge({ state }: { state: string | null }) {
  return (
    <span className="badge" style={{ background: stateColor(state) }} data-state={state ?? "none"}>
      {state ?? "none"}
    </span>
  );
}

export function ProgressBar({ counts, total }: { counts: Record<string, number>; total: number }) {
  const parts = LOT_STATES.filter((s) => (counts[s] ?? 0) > 0);
  const label = parts.map((s) => `${counts[s]} ${s}`).join(", ") || "no lots";
  return (
    <div className="bar" role="img" aria-label={`lots: ${label}`} title={label}>
      {parts.map((s) => (
        <div key={s} style={{ width: `${(100 * (counts[s] ?? 0)) / Math.max(total, 1)}%`, background: stateColor(s) }} />
      ))}
    </div>
  );
}

/** A select of states with "any state" first. */
export function StateSelect({
  label,
  name,
  states,
  value,
  onChange,
}: {
  label: string;
  name: string;
  states: readonly string[];
  value: string;
  onChange: (state: string) => void;
}) {
  return (
    <label className="field" style={{ minWidth: 0 }}>
      <span>{name}</span>
      <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">any state</option>
        {states.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Previous / Next over a list paginated by the server. */
export function Pager({
  what,
  offset,
  page,
  total,
  onOffset,
}: {
  what: string;
  offset: number;
  page: number;
  total: number;
  onOffset: (offset: number) => void;
}) {
  return (
    <div className="row" style={{ marginTop: 8 }}>
      <button type="button" aria-label={`Previous ${what}`} disabled={offset === 0} onClick={() => onOffset(Math.max(offset - page, 0))}>
        Previous
      </button>
      <span className="muted">{total ? `${offset + 1}–${Math.min(offset + page, total)} of ${total}` : `no ${what}`}</span>
      <button type="button" aria-label={`Next ${what}`} disabled={offset + page >= total} onClick={() => onOffset(offset + page)}>
        Next
      </button>
    </div>
  );
}

/** Runs ``effect`` ``delayMs`` after ``deps`` last changed (typing pauses), aborting what it started
 * when they change again. */
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

export function ErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  return (
    <div className="alert" role="alert">
      <div>{api ? api.message : String((error as Error).message ?? error)}</div>
      {api?.fields.length ? (
        <ul>
          {api.fields.map((f, i) => (
            <li key={i}>
              <code>{f.loc || "(body)"}</code>: {f.msg}
            </li>
          ))}
        </ul>
      ) : null}
      {api?.requestId ? <div className="muted">request id {api.requestId}</div> : null}
    </div>
  );
}

function cellLabel(cell: CalendarCell, granularity: Calendar["granularity"]): string {
  const when =
    granularity === "year" ? cell.day.slice(0, 4) : granularity === "month" ? cell.day.slice(0, 7) : granularity === "hour" ? `${cell.day} ${String(cell.hour).padStart(2, "0")}:00` : cell.day;
  const counts = Object.entries(cell.counts)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  return `${cell.dag_id} ${when}: ${cell.state} (${counts})`;
}

/** The heatmap: one row per DAG, one cell per day (per hour, in a day × hour grid, for sub-daily lots;
 * per month for very long plans). A cell shows what needs attention first; clicking it opens its first lot. */
export function CalendarView({ calendar, onCell }: { calendar: Calendar; onCell?: (cell: CalendarCell) => void }) {
  const byDag = new Map<string, CalendarCell[]>();
  for (const cell of calendar.cells) {
    const list = byDag.get(cell.dag_id) ?? [];
    list.push(cell);
    byDag.set(cell.dag_id, list);
  }
  const shown = LOT_STATES.filter((s) => calendar.cells.some((c) => c.state === s));
  const cell = (c: CalendarCell) => {
    const label = cellLabel(c, calendar.granularity);
    return (
      <button
        key={`${c.dag_id}-${c.day}-${c.hour ?? ""}`}
        type="button"
        className={`cell${calendar.granularity === "month" || calendar.granularity === "year" ? " month" : ""}`}
        style={{ background: stateColor(c.state) }}
        title={label /* also the button's accessible name */}
        data-day={c.day}
        data-state={c.state}
        onClick={() => onCell?.(c)}
      />
    );
  };
  return (
    <div className="calendar" aria-label={`calendar of lots by ${calendar.granularity}`}>
      {[...byDag.entries()].map(([dagId, cells]) => (
        <div className="cal-row" key={dagId}>
          <div className="cal-dag" title={dagId}>
            {dagId}
          </div>
          {calendar.granularity === "hour" ? (
            <HourGrid cells={cells} render={cell} />
          ) : (
            <div className="cal-cells">{cells.map(cell)}</div>
          )}
        </div>
      ))}
      <div className="cal-legend">
        <span className="muted">
          by {calendar.granularity}, {calendar.timezone}
          {calendar.first_day ? `: ${calendar.first_day} – ${calendar.last_day}` : ""}
        </span>
        {shown.map((s) => (
          <span key={s}>
            <i style={{ background: stateColor(s) }} />
            {s}
          </span>
        ))}
      </div>
    </div>
  );
}

function HourGrid({ cells, render }: { cells: CalendarCell[]; render: (c: CalendarCell) => ReactNode }) {
  const days = [...new Set(cells.map((c) => c.day))];
  const at = new Map(cells.map((c) => [`${c.day}-${c.hour}`, c]));
  return (
    <div className="cal-hours">
      {days.map((day) => [
        <span key={day}>{day}</span>,
        ...Array.from({ length: 24 }, (_, hour) => {
          const c = at.get(`${day}-${hour}`);
          return c ? render(c) : <span key={`${day}-${hour}`} />;
        }),
      ])}
    </div>
  );
}

/** The page's place (plan, lot, view and filters) lives in the URL's query, so links and Back work. */
export function useRoute(): [URLSearchParams, (changes: Record<string, string | null>, replace?: boolean) => void] {
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
