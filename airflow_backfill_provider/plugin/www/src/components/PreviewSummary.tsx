// What a preview says: lots, data time, an estimate and warnings, and the calendar of the lots.
import { type Preview } from "../api";
import { dateTime, duration } from "../format";
import { CalendarView } from "./CalendarView";

export function PreviewSummary({ preview }: { preview: Preview }) {
  return (
    <div data-testid="preview">
      <div className="row" style={{ gap: 24 }}>
        <div className="stat">
          <span className="muted">Lots</span>
          <b data-testid="preview-total">{preview.total}</b>
        </div>
        <div className="stat">
          <span className="muted">Data time</span>
          <span>
            {dateTime(preview.data_start)} – {dateTime(preview.data_end)}
          </span>
        </div>
        <div className="stat">
          <span className="muted">Estimated duration</span>
          <b data-testid="preview-estimate" title={preview.estimate?.basis}>
            {preview.estimate?.seconds != null ? duration(preview.estimate.seconds) : "no runs to learn from"}
          </b>
          {preview.estimate?.runs_sampled ? (
            <span className="muted">
              from {preview.estimate.runs_sampled} recent run{preview.estimate.runs_sampled === 1 ? "" : "s"}
            </span>
          ) : null}
        </div>
        <div className="stat">
          <span className="muted">Name</span>
          <span>{preview.name}</span>
        </div>
        <div className="stat">
          <span className="muted">Its asset events schedule</span>
          <span data-testid="preview-consumers">
            {preview.asset_consumers.join(", ") || (preview.asset_consumers_hidden ? "" : "no DAG")}
            {preview.asset_consumers_hidden
              ? ` ${preview.asset_consumers.length ? "and " : ""}${preview.asset_consumers_hidden} DAG(s) you may not read`
              : ""}
          </span>
        </div>
      </div>
      {preview.warnings.map((w, i) => (
        <div className="warn" key={i}>
          {w}
        </div>
      ))}
      {preview.calendar ? <CalendarView calendar={preview.calendar} /> : null}
      <table aria-label="DAGs in the plan">
        <thead>
          <tr>
            <th>DAG</th>
            <th>Runs</th>
            <th>Dry-runs</th>
            <th>Self-dependency</th>
          </tr>
        </thead>
        <tbody>
          {preview.dags.map((d) => (
            <tr key={d.dag_id}>
              <td>{d.dag_id}</td>
              <td>{d.run_tasks.join(", ") || "–"}</td>
              <td>{d.dry_run_tasks.join(", ") || "–"}</td>
              <td>{d.self_dependency ? "on" : "off"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>First lots</h3>
      <table aria-label="first lots">
        <thead>
          <tr>
            <th>#</th>
            <th>DAG</th>
            <th>Data interval</th>
            {preview.lots.some((lot) => lot.system_date) ? <th>Its system&apos;s date</th> : null}
          </tr>
        </thead>
        <tbody>
          {preview.lots.map((lot) => (
            <tr key={lot.index}>
              <td>{lot.index}</td>
              <td>{lot.dag_id}</td>
              <td>{lot.label}</td>
              {preview.lots.some((l) => l.system_date) ? <td>{lot.system_date ?? "–"}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
