// Plans: newest first, filtered by DAG, state and text, paginated on the server, refreshed while any
// plan on the page is still being worked on.
import { useEffect, useState } from "react";

import { api, hasEnded, PLAN_STATES, type Plan } from "../api";
import { ErrorAlert } from "../components/ErrorAlert";
import { Pager } from "../components/Pager";
import { ProgressBar, StateBadge, StateSelect } from "../components/StateBadge";
import { dateTime } from "../format";
import { useDelayed } from "../hooks/useDelayed";
import { usePolled } from "../hooks/usePolled";

const PAGE = 25;

export function PlanList({
  fixedDagId,
  params,
  go,
}: {
  fixedDagId?: string;
  params: URLSearchParams;
  go: (changes: Record<string, string | null>, replace?: boolean) => void;
}) {
  const dagId = fixedDagId ?? params.get("dag_id") ?? "";
  const state = params.get("state") ?? "";
  const text = params.get("q") ?? "";
  const offset = Number(params.get("offset") ?? 0) || 0;
  const [typed, setTyped] = useState({ dag: dagId, q: text });
  useEffect(() => setTyped({ dag: dagId, q: text }), [dagId, text]);
  useDelayed(
    () => {
      // filters typed into boxes apply after a pause in typing
      if (typed.q !== text || (!fixedDagId && typed.dag !== dagId)) {
        go({ q: typed.q, ...(fixedDagId ? {} : { dag_id: typed.dag }), offset: null }, true);
      }
    },
    [typed, text, dagId, fixedDagId, go],
    350,
  );

  const key = JSON.stringify([dagId, state, text, offset]);
  const { data, error } = usePolled(
    (signal) =>
      api.listPlans(
        { dag_id: dagId || undefined, state: state || undefined, q: text || undefined, limit: PAGE, offset },
        signal,
      ),
    key,
    (found) => !!found?.plans.some((p) => !hasEnded(p)),
  );
  const total = data?.total ?? 0;
  return (
    <section aria-label="backfill plans">
      <div className="spread">
        <h1>Backfill plans{fixedDagId ? ` of ${fixedDagId}` : ""}</h1>
        <button
          type="button"
          className="primary"
          aria-label="New plan"
          onClick={() => go({ view: "new", plan: null, lot: null })}
        >
          New plan
        </button>
      </div>
      <div className="row" role="search">
        {fixedDagId ? null : (
          <label className="field">
            <span>DAG</span>
            <input
              aria-label="Filter by DAG"
              value={typed.dag}
              placeholder="any DAG"
              onChange={(e) => setTyped({ ...typed, dag: e.target.value })}
            />
          </label>
        )}
        <StateSelect
          label="Filter by state"
          name="State"
          states={PLAN_STATES}
          value={state}
          onChange={(s) => go({ state: s, offset: null })}
        />
        <label className="field">
          <span>Text</span>
          <input
            aria-label="Filter by text"
            value={typed.q}
            placeholder="name or DAG contains"
            onChange={(e) => setTyped({ ...typed, q: e.target.value })}
          />
        </label>
      </div>
      <ErrorAlert error={error} />
      <table aria-label="plans">
        <thead>
          <tr>
            <th>Plan</th>
            <th>DAG</th>
            <th>State</th>
            <th>Lots</th>
            <th>Progress</th>
            <th>Created</th>
            <th>By</th>
          </tr>
        </thead>
        <tbody>
          {data?.plans.map((p: Plan) => (
            <tr key={p.id} data-plan={p.name}>
              <td>
                <a
                  href={`?plan=${p.id}`}
                  onClick={(e) => {
                    e.preventDefault();
                    go({ plan: String(p.id), view: null, lot: null });
                  }}
                >
                  {p.title ?? p.name}
                </a>{" "}
                <span className="muted">
                  {p.title ? `${p.name} ` : ""}#{p.id}
                </span>
              </td>
              <td>{p.dag_id}</td>
              <td>
                <StateBadge state={p.state} />
              </td>
              <td>
                {(p.counts.success ?? 0) + (p.counts.skipped ?? 0)} / {p.total_lots}
              </td>
              <td style={{ minWidth: 160 }}>
                <ProgressBar counts={p.counts} total={p.total_lots} />
              </td>
              <td>{dateTime(p.created_at)}</td>
              <td>{p.created_by ?? "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.plans.length === 0 ? (
        <p className="muted">No plan matches. Create one with “New plan”.</p>
      ) : null}
      <Pager
        what="plans"
        offset={offset}
        page={PAGE}
        total={total}
        onOffset={(n) => go({ offset: String(n) })}
      />
    </section>
  );
}
