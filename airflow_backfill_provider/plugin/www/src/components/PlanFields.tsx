// The new-plan form's fields: text, choices, checks, JSON, task pickers and date ranges, each with
// its errors from the server under it.
import { useEffect, useState } from "react";

import { getPath, list, type Json, type PlanDoc } from "../planDoc";

export interface FieldProps {
  label: string;
  path: string;
  doc: PlanDoc;
  onChange: (path: string, value: Json | undefined) => void;
  errors: (path: string) => string[];
  hint?: string;
}

export function Errors({ messages }: { messages: string[] }) {
  return messages.length ? (
    <span className="field-error" role="alert">
      {messages.join("; ")}
    </span>
  ) : null;
}

export function TextField({
  label,
  path,
  doc,
  onChange,
  errors,
  hint,
  placeholder,
  disabled,
  kind,
}: FieldProps & { placeholder?: string; disabled?: boolean; kind?: "text" | "number" | "list" }) {
  const value = getPath(doc, path);
  const shown = Array.isArray(value)
    ? value.join(", ")
    : value === undefined || value === null
      ? ""
      : String(value);
  const [text, setText] = useState(shown);
  useEffect(() => {
    // follow the document when it changes from elsewhere (YAML, a reset), not while this box is edited
    const mine =
      kind === "list"
        ? list(text).join(", ")
        : kind === "number"
          ? String(text === "" ? "" : Number(text))
          : text;
    if (mine !== shown) setText(shown);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shown]);
  const messages = errors(path);
  const id = `bfp-${path}`;
  return (
    <label className="field" htmlFor={id}>
      <span>{label}</span>
      <input
        id={id}
        name={path}
        aria-label={label}
        aria-invalid={messages.length > 0}
        className={messages.length ? "invalid" : undefined}
        value={text}
        placeholder={placeholder}
        disabled={disabled}
        inputMode={kind === "number" ? "numeric" : undefined}
        onChange={(e) => {
          setText(e.target.value);
          const raw = e.target.value;
          if (kind === "list") onChange(path, list(raw));
          else if (kind === "number")
            onChange(path, raw.trim() === "" ? undefined : Number.isFinite(Number(raw)) ? Number(raw) : raw);
          else onChange(path, raw.trim() === "" ? undefined : raw);
        }}
      />
      {hint ? <span className="muted">{hint}</span> : null}
      <Errors messages={messages} />
    </label>
  );
}

export function SelectField({
  label,
  path,
  doc,
  onChange,
  errors,
  options,
  hint,
}: FieldProps & { options: [string, string][] }) {
  const value = getPath(doc, path);
  const messages = errors(path);
  return (
    <label className="field">
      <span>{label}</span>
      <select
        name={path}
        aria-label={label}
        className={messages.length ? "invalid" : undefined}
        value={value === undefined || value === null ? "" : String(value)}
        onChange={(e) => onChange(path, e.target.value === "" ? undefined : e.target.value)}
      >
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
      {hint ? <span className="muted">{hint}</span> : null}
      <Errors messages={messages} />
    </label>
  );
}

export function CheckField({
  label,
  path,
  doc,
  onChange,
  errors,
  defaultValue,
}: FieldProps & { defaultValue: boolean }) {
  const value = getPath(doc, path);
  const checked = typeof value === "boolean" ? value : defaultValue;
  return (
    <span>
      <label className="check">
        <input
          type="checkbox"
          name={path}
          aria-label={label}
          checked={checked}
          onChange={(e) => onChange(path, e.target.checked === defaultValue ? undefined : e.target.checked)}
        />
        {label}
      </label>
      <Errors messages={errors(path)} />
    </span>
  );
}

export function JsonField({ label, path, doc, onChange, errors, hint }: FieldProps) {
  const value = getPath(doc, path);
  const shown = value === undefined ? "" : JSON.stringify(value, null, 2);
  const [text, setText] = useState(shown);
  const [bad, setBad] = useState<string | null>(null);
  useEffect(() => {
    let mine: string;
    try {
      mine = text.trim() ? JSON.stringify(JSON.parse(text), null, 2) : "";
    } catch {
      return;
    }
    if (mine !== shown) setText(shown);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shown]);
  const messages = [...(bad ? [bad] : []), ...errors(path)];
  return (
    <label className="field" style={{ flex: 1 }}>
      <span>{label}</span>
      <textarea
        name={path}
        aria-label={label}
        className={messages.length ? "invalid" : undefined}
        rows={3}
        value={text}
        placeholder="{}"
        onChange={(e) => {
          setText(e.target.value);
          if (!e.target.value.trim()) {
            setBad(null);
            onChange(path, undefined);
            return;
          }
          try {
            onChange(path, JSON.parse(e.target.value) as Json);
            setBad(null);
          } catch (exc) {
            setBad(`not JSON yet: ${(exc as Error).message}`);
          }
        }}
      />
      {hint ? <span className="muted">{hint}</span> : null}
      <Errors messages={messages} />
    </label>
  );
}

export function TaskPicker({
  label,
  path,
  doc,
  onChange,
  errors,
  tasks,
  hint,
}: FieldProps & { tasks: string[] }) {
  const value = getPath(doc, path);
  const chosen = new Set(Array.isArray(value) ? value.map(String) : []);
  const extra = [...chosen].filter((t) => !tasks.includes(t));
  return (
    <fieldset className="field" style={{ border: "none", padding: 0, margin: 0 }}>
      <legend style={{ fontWeight: 500, fontSize: 13 }}>{label}</legend>
      <div className="picker" role="group" aria-label={label}>
        {[...tasks, ...extra].map((task) => (
          <label className="check" key={task}>
            <input
              type="checkbox"
              aria-label={`${label}: ${task}`}
              checked={chosen.has(task)}
              onChange={(e) => {
                const next = new Set(chosen);
                if (e.target.checked) next.add(task);
                else next.delete(task);
                onChange(path, next.size ? [...next] : undefined);
              }}
            />
            {task}
          </label>
        ))}
        {tasks.length === 0 && extra.length === 0 ? (
          <span className="muted">choose a DAG to list its tasks</span>
        ) : null}
      </div>
      {hint ? <span className="muted">{hint}</span> : null}
      <Errors messages={errors(path)} />
    </fieldset>
  );
}

export function Ranges({ doc, onChange, errors }: Omit<FieldProps, "label" | "path">) {
  const ranges = (getPath(doc, "ranges") as Json[] | undefined) ?? [];
  const rows = ranges.length ? ranges : [{}];
  return (
    <fieldset style={{ border: "none", padding: 0, margin: 0 }}>
      <legend style={{ fontWeight: 500, fontSize: 13 }}>Data time ranges (inclusive)</legend>
      {rows.map((_, i) => (
        <div className="row" key={i}>
          <TextField
            label={`Range ${i + 1} start`}
            path={`ranges.${i}.start`}
            doc={doc}
            onChange={onChange}
            errors={errors}
            placeholder="2024-01-01"
          />
          <TextField
            label={`Range ${i + 1} end`}
            path={`ranges.${i}.end`}
            doc={doc}
            onChange={onChange}
            errors={errors}
            placeholder="2024-01-31"
          />
          <TextField
            label={`Range ${i + 1} window start`}
            path={`ranges.${i}.window.start`}
            doc={doc}
            onChange={onChange}
            errors={errors}
            placeholder="HH:MM (sub-daily)"
          />
          <TextField
            label={`Range ${i + 1} window end`}
            path={`ranges.${i}.window.end`}
            doc={doc}
            onChange={onChange}
            errors={errors}
            placeholder="HH:MM"
          />
          <button
            type="button"
            aria-label={`Remove range ${i + 1}`}
            disabled={rows.length <= 1}
            onClick={() =>
              onChange(
                "ranges",
                ranges.filter((__, j) => j !== i),
              )
            }
          >
            Remove
          </button>
          <Errors
            messages={errors(`ranges.${i}`).filter(
              (m) => !errors(`ranges.${i}.start`).includes(m) && !errors(`ranges.${i}.end`).includes(m),
            )}
          />
        </div>
      ))}
      <button
        type="button"
        aria-label="Add range"
        onClick={() => onChange(`ranges.${rows.length}`, { start: "", end: "" } as unknown as Json)}
      >
        Add range
      </button>
    </fieldset>
  );
}
