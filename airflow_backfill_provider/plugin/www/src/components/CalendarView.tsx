// The calendar heatmap of a plan's (or a preview's) lots over data time.
import { type ReactNode } from "react";

import { LOT_STATES, type Calendar, type CalendarCell } from "../api";
import { stateColor } from "../format";

function cellLabel(cell: CalendarCell, granularity: Calendar["granularity"]): string {
  const when =
    granularity === "year"
      ? cell.day.slice(0, 4)
      : granularity === "month"
        ? cell.day.slice(0, 7)
        : granularity === "hour"
          ? `${cell.day} ${String(cell.hour).padStart(2, "0")}:00`
          : cell.day;
  const counts = Object.entries(cell.counts)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  return `${cell.dag_id} ${when}: ${cell.state} (${counts})`;
}

/** The heatmap: one row per DAG, one cell per day (per hour, in a day × hour grid, for sub-daily lots;
 * per month for very long plans). A cell shows what needs attention first; clicking it opens its first lot. */
export function CalendarView({
  calendar,
  onCell,
}: {
  calendar: Calendar;
  onCell?: (cell: CalendarCell) => void;
}) {
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
