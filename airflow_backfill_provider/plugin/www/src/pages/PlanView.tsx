// One plan: counts per state, the calendar heatmap, the lot table (paginated on the server) with
// per-lot retry, a lot's detail, and the steering buttons. Live while the plan is being worked on.
import { useEffect, useState } from "react";

import { api, hasEnded, LOT_STATES, links, type Action, type Lot, type LotDetail, type Plan } from "../api";
import { CalendarView } from "../components/CalendarView";
import { ErrorAlert } from "../components/ErrorAlert";
import { Pager } from "../components/Pager";
import { ProgressBar, StateBadge, StateSelect } from "../components/StateBadge";
import { between, dateTime, duration, stateColor } from "../format";
import { usePolled } from "../hooks/usePolled";

const PAGE = 50;

export function PlanView({
  planRef,
  params,
  go,
}: {
  planRef: string;
  params: URLSearchParams;
  go: (changes: Record<string, string | null>, replace?: boolean) => void;
}) {
  const lotState = params.get("lot_state") ?? "";
  const offset = Number(params.get("lot_offset") ?? 0) || 0;
  const lotIndex = params.get("lot");
  const [version, setVersion] = useState(0);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);

  const isLive = (p: Plan | undefined) => !p || !hasEnded(p);
  const plan = usePolled(
    (signal) => api.getPlan(planRef, signal),
    `${planRef}-${version}`,
    isLive,
    2500,
    planRef,
  );
  const live = isLive(plan.data);
  // calendar and lots reload at once when the plan's state or counts move, and poll while it is live
  const moved = `${version}-${plan.data?.state}-${JSON.stringify(plan.data?.counts ?? {})}`;
  const calendar = usePolled(
    (signal) => api.calendar(planRef, signal),
    `${planRef}-${moved}`,
    () => live,
    4000,
    planRef,
  );
  const lots = usePolled(
    (signal) => api.lots(planRef, { state: lotState || undefined, limit: PAGE, offset }, signal),
    `${planRef}-${lotState}-${offset}-${moved}`,
    () => live,
    2500,
    `${planRef}-${lotState}-${offset}`,
  );

  const steer = (action: Action, index?: number) => {
    setBusy(index === undefined ? action : `${action}-${index}`);
    setActionError(null);
    api
      .steer(planRef, action, index)
      .then(() => setVersion((v) => v + 1))
      .catch(setActionError)
      .finally(() => {
        setBusy(null);
        setConfirmCancel(false);
      });
  };

  const p = plan.data;
  if (!p) {
    return (
      <section aria-label="backfill plan">
        <button
          type="button"
          aria-label="Back to plans"
          onClick={() => go({ plan: null, lot: null, lot_state: null, lot_offset: null })}
        >
          Back to plans
        </button>
        {plan.error ? <ErrorAlert error={plan.error} /> : <p className="muted">Loading plan {planRef}…</p>}
      </section>
    );
  }
  // the steering the plan accepts now, as the server decides it (the buttons of the rest are off)
  const can = (action: Action) => p.actions.includes(action);
  const total = lots.data?.total ?? 0;
  return (
    <section aria-label="backfill plan">
      <div className="spread">
        <div>
          <h1>
            {p.title ?? p.name}{" "}
            <span className="muted">
              {p.title ? `${p.name} ` : ""}#{p.id}
            </span>{" "}
            <StateBadge state={p.state} />
          </h1>
          <div className="muted">
            DAG <a href={links.dag(p.dag_id)}>{p.dag_id}</a> · created {dateTime(p.created_at)} by{" "}
            {p.created_by ?? "–"} · started {dateTime(p.started_at)} · ended {dateTime(p.ended_at)} ·{" "}
            {p.timezone} · <a href={links.nativeBackfills(p.dag_id)}>Airflow's Backfills tab</a>
          </div>
        </div>
        <div className="row" role="toolbar" aria-label="steer the plan">
          <button
            type="button"
            aria-label="Back to plans"
            onClick={() => go({ plan: null, lot: null, lot_state: null, lot_offset: null })}
          >
            Back to plans
          </button>
          <button
            type="button"
            aria-label="Pause"
            disabled={!can("pause") || !!busy}
            onClick={() => steer("pause")}
          >
            Pause
          </button>
          <button
            type="button"
            aria-label="Resume"
            disabled={!can("resume") || !!busy}
            onClick={() => steer("resume")}
          >
            Resume
          </button>
          {confirmCancel ? (
            <>
              <button
                type="button"
                className="danger"
                aria-label="Confirm cancel"
                disabled={!!busy}
                onClick={() => steer("cancel")}
              >
                Confirm cancel
              </button>
              <button type="button" aria-label="Keep running" onClick={() => setConfirmCancel(false)}>
                Keep running
              </button>
            </>
          ) : (
            <button
              type="button"
              className="danger"
              aria-label="Cancel"
              disabled={!can("cancel") || !!busy}
              onClick={() => setConfirmCancel(true)}
            >
              Cancel
            </button>
          )}
          <button
            type="button"
            aria-label="Retry failed"
            disabled={!can("retry") || !!busy}
            onClick={() => steer("retry")}
          >
            Retry failed
          </button>
        </div>
      </div>
      <ErrorAlert error={actionError} />
      {p.warnings.map((w, i) => (
        <div className="warn" key={i}>
          {w}
        </div>
      ))}
      <div className="card">
        <div className="row" style={{ gap: 18 }} aria-label="lots per state">
          <div className="stat">
            <span className="muted">lots</span>
            <b data-testid="total-lots">{p.total_lots}</b>
          </div>
          {LOT_STATES.map((s) => (
            <button
              type="button"
              key={s}
              className="stat"
              aria-label={`Show ${s} lots`}
              aria-pressed={lotState === s}
              style={{ borderColor: stateColor(s), textAlign: "left" }}
              onClick={() => go({ lot_state: lotState === s ? null : s, lot_offset: null }, true)}
            >
              <span className="muted">{s}</span>
              <b data-testid={`count-${s}`}>{p.counts[s] ?? 0}</b>
            </button>
          ))}
        </div>
        <div style={{ marginTop: 8 }}>
          <ProgressBar counts={p.counts} total={p.total_lots} />
        </div>
      </div>
      <h2>Calendar</h2>
      <div className="card">
        {calendar.data ? (
          <CalendarView calendar={calendar.data} onCell={(cell) => go({ lot: String(cell.first_lot) })} />
        ) : (
          <ErrorAlert error={calendar.error} />
        )}
      </div>
      <div className="spread">
        <h2>Lots{lotState ? ` (${lotState})` : ""}</h2>
        <StateSelect
          label="Filter lots by state"
          name="Lot state"
          states={LOT_STATES}
          value={lotState}
          onChange={(s) => go({ lot_state: s, lot_offset: null }, true)}
        />
      </div>
      <ErrorAlert error={lots.error} />
      <table aria-label="lots">
        <thead>
          <tr>
            <th>#</th>
            <th>DAG</th>
            <th>Data interval</th>
            <th>State</th>
            <th>Run</th>
            <th>Started</th>
            <th>Duration</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {lots.data?.lots.map((lot: Lot) => (
            <tr key={lot.index} data-lot={lot.index} data-state={lot.state}>
              <td>{lot.index}</td>
              <td>{lot.dag_id}</td>
              <td>{lot.label}</td>
              <td>
                <StateBadge state={lot.state} />
                {lot.reason ? <div className="muted">{lot.reason}</div> : null}
              </td>
              <td>{lot.run_id ? <a href={links.run(lot.dag_id, lot.run_id)}>{lot.run_id}</a> : "–"}</td>
              <td>{dateTime(lot.start_date)}</td>
              <td>{duration(between(lot.start_date, lot.end_date))}</td>
              <td>
                <div className="row">
                  <button
                    type="button"
                    aria-label={`Details of lot ${lot.index}`}
                    onClick={() => go({ lot: String(lot.index) })}
                  >
                    Details
                  </button>
                  {lot.retryable && can("retry") ? (
                    <button
                      type="button"
                      aria-label={`Retry lot ${lot.index}`}
                      disabled={!!busy}
                      onClick={() => steer("retry", lot.index)}
                    >
                      Retry
                    </button>
                  ) : null}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager
        what="lots"
        offset={offset}
        page={PAGE}
        total={total}
        onOffset={(n) => go({ lot_offset: String(n) }, true)}
      />
      {lotIndex !== null ? (
        <LotPanel
          planRef={planRef}
          index={Number(lotIndex)}
          live={live}
          version={version}
          onClose={() => go({ lot: null })}
        />
      ) : null}
    </section>
  );
}

function LotPanel({
  planRef,
  index,
  live,
  version,
  onClose,
}: {
  planRef: string;
  index: number;
  live: boolean;
  version: number;
  onClose: () => void;
}) {
  const { data, error } = usePolled<LotDetail>(
    (signal) => api.lot(planRef, index, signal),
    `${planRef}-${index}-${version}`,
    () => live,
    3000,
    `${planRef}-${index}`,
  );
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    globalThis.addEventListener("keydown", onKey);
    return () => globalThis.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <aside className="panel" role="dialog" aria-label={`lot ${index}`}>
      <div className="spread">
        <h2 style={{ margin: 0 }}>Lot {index}</h2>
        <button type="button" aria-label="Close lot detail" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorAlert error={error} />
      {data ? (
        <div data-testid="lot-detail">
          <p>
            <StateBadge state={data.state} /> {data.dag_id} · {data.label}
          </p>
          {data.reason ? <p className="muted">{data.reason}</p> : null}
          <p>
            Run:{" "}
            {data.run_id ? (
              <a href={links.run(data.dag_id, data.run_id)}>{data.run_id}</a>
            ) : (
              "not created yet"
            )}
            {" · "}started {dateTime(data.start_date)} · ended {dateTime(data.end_date)}
          </p>
          <h3>Timeline</h3>
          <ol>
            {data.timeline.map((t, i) => (
              <li key={i}>
                <StateBadge state={t.state} /> {dateTime(t.at)}
              </li>
            ))}
          </ol>
          <h3>Task instances</h3>
          {data.task_instances.length === 0 ? <p className="muted">none yet</p> : null}
          {data.task_instances.map((ti) => (
            <div className="card" key={`${ti.task_id}-${ti.map_index}`} data-task={ti.task_id}>
              <div className="spread">
                <b>
                  {ti.task_id}
                  {ti.map_index >= 0 ? `[${ti.map_index}]` : ""}
                </b>
                <span>
                  <StateBadge state={ti.state} /> {ti.dry_run ? <span className="muted">dry-run</span> : null}
                </span>
              </div>
              <div className="muted">
                try {ti.try_number} · {ti.hostname ?? "no host"} · {dateTime(ti.start_date)} →{" "}
                {dateTime(ti.end_date)} ·{" "}
                {data.run_id ? (
                  <a href={links.taskInstance(data.dag_id, data.run_id, ti.task_id, ti.map_index)}>log</a>
                ) : null}
              </div>
              {Object.entries(ti.rendered_fields).map(([field, value]) => (
                <div key={field}>
                  <span className="muted">{field}</span>
                  <pre data-field={field}>
                    {typeof value === "string" ? value : JSON.stringify(value, null, 2)}
                  </pre>
                </div>
              ))}
              {ti.error ? (
                <div>
                  <span className="muted">error</span>
                  <pre className="error">{ti.error}</pre>
                </div>
              ) : null}
            </div>
          ))}
        </div>
      ) : null}
    </aside>
  );
}
