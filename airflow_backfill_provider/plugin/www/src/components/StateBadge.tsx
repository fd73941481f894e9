// A state as a coloured badge, the progress bar of a plan, and a select of states.
import { LOT_STATES } from "../api";
import { stateColor } from "../format";

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
        <div
          key={s}
          style={{ width: `${(100 * (counts[s] ?? 0)) / Math.max(total, 1)}%`, background: stateColor(s) }}
        />
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
