// The new-plan form: every plan field (contract §1), the DAG's own tasks as pickers, a live preview
// from the server while typing, errors next to their fields, and the plan as YAML to read or paste.
import yaml from "js-yaml";
import { useEffect, useMemo, useRef, useState } from "react";

import { api, ApiError, type FieldError, type Preview } from "./api";
import { CalendarView, ErrorAlert, useDelayed } from "./components";
import { dateTime, duration } from "./format";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type PlanDoc = { [key: string]: Json };

function isoDay(daysAgo: number): string {
  const at = new Date(Date.now() - daysAgo * 86_400_000);
  return at.toISOString().slice(0, 10);
}

function getPath(doc: PlanDoc, path: string): Json | undefined {
  let at: Json | undefined = doc;
  for (const key of path.split(".")) {
    if (at === null || typeof at !== "object") return undefined;
    at = Array.isArray(at) ? at[Number(key)] : at[key];
  }
  return at;
}

function isEmpty(value: Json | undefined): boolean {
  return value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
}

/** A copy of ``doc`` with ``path`` set; empty values remove the key (and empty parents), so the plan
 * sent holds only what the user chose and the server's defaults apply to the rest. */
function setPath(doc: PlanDoc, path: string, value: Json | undefined): PlanDoc {
  const keys = path.split(".");
  const copy = structuredClone(doc);
  const parents: [Record<string, Json>, string][] = [];
  let at: Record<string, Json> = copy;
  for (const key of keys.slice(0, -1)) {
    if (at[key] === null || typeof at[key] !== "object") at[key] = {};
    parents.push([at, key]);
    at = at[key] as Record<string, Json>;
  }
  const last = keys[keys.length - 1];
  if (isEmpty(value)) delete at[last];
  else at[last] = value as Json;
  for (const [parent, key] of parents.reverse()) {
    const child = parent[key];
    if (child && typeof child === "object" && !Array.isArray(child) && Object.keys(child).length === 0) delete parent[key];
  }
  return copy;
}

const list = (text: string): string[] =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

interface FieldProps {
  label: string;
  path: string;
  doc: PlanDoc;
  onChange: (path: string, value: Json | undefined) => void;
  errors: (path: string) => string[];
  hint?: string;
}

function Errors({ messages }: { messages: string[] }) {
  return messages.length ? (
    <span className="field-error" role="alert">
      {messages.join("; ")}
    </span>
  ) : null;
}

function TextField({ label, path, doc, onChange, errors, hint, placeholder, disabled, kind }: FieldProps & { placeholder?: string; disabled?: boolean; kind?: "text" | "number" | "list" }) {
  const value = getPath(doc, path);
  const shown = Array.isArray(value) ? value.join(", ") : value === undefined || value === null ? "" : String(value);
  const [text, setText] = useState(shown);
  useEffect(() => {
    // follow the document when it changes from elsewhere (YAML, a reset), not while this box is edited
    const mine = kind === "list" ? list(text).join(", ") : kind === "number" ? String(text === "" ? "" : Number(text)) : text;
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
          else if (kind === "number") onChange(path, raw.trim() === "" ? undefined : Number.isFinite(Number(raw)) ? Number(raw) : raw);
          else onChange(path, raw.trim() === "" ? undefined : raw);
        }}
      />
      {hint ? <span className="muted">{hint}</span> : null}
      <Errors messages={messages} />
    </label>
  );
}

function SelectField({ label, path, doc, onChange, errors, options, hint }: FieldProps & { options: [string, string][] }) {
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

function CheckField({ label, path, doc, onChange, errors, defaultValue }: FieldProps & { defaultValue: boolean }) {
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

function JsonField({ label, path, doc, onChange, errors, hint }: FieldProps) {
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

function TaskPicker({ label, path, doc, onChange, errors, tasks, hint }: FieldProps & { tasks: string[] }) {
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
        {tasks.length === 0 && extra.length === 0 ? <span className="muted">choose a DAG to list its tasks</span> : null}
      </div>
      {hint ? <span className="muted">{hint}</span> : null}
      <Errors messages={errors(path)} />
    </fieldset>
  );
}

function Ranges({ doc, onChange, errors }: Omit<FieldProps, "label" | "path">) {
  const ranges = (getPath(doc, "ranges") as Json[] | undefined) ?? [];
  const rows = ranges.length ? ranges : [{}];
  return (
    <fieldset style={{ border: "none", padding: 0, margin: 0 }}>
      <legend style={{ fontWeight: 500, fontSize: 13 }}>Data time ranges (inclusive)</legend>
      {rows.map((_, i) => (
        <div className="row" key={i}>
          <TextField label={`Range ${i + 1} start`} path={`ranges.${i}.start`} doc={doc} onChange={onChange} errors={errors} placeholder="2024-01-01" />
          <TextField label={`Range ${i + 1} end`} path={`ranges.${i}.end`} doc={doc} onChange={onChange} errors={errors} placeholder="2024-01-31" />
          <TextField label={`Range ${i + 1} window start`} path={`ranges.${i}.window.start`} doc={doc} onChange={onChange} errors={errors} placeholder="HH:MM (sub-daily)" />
          <TextField label={`Range ${i + 1} window end`} path={`ranges.${i}.window.end`} doc={doc} onChange={onChange} errors={errors} placeholder="HH:MM" />
          <button
            type="button"
            aria-label={`Remove range ${i + 1}`}
            disabled={rows.length <= 1}
            onClick={() => onChange("ranges", ranges.filter((__, j) => j !== i))}
          >
            Remove
          </button>
          <Errors messages={errors(`ranges.${i}`).filter((m) => !errors(`ranges.${i}.start`).includes(m) && !errors(`ranges.${i}.end`).includes(m))} />
        </div>
      ))}
      <button type="button" aria-label="Add range" onClick={() => onChange(`ranges.${rows.length}`, { start: "", end: "" } as unknown as Json)}>
        Add range
      </button>
    </fieldset>
  );
}

export function NewPlan({ fixedDagId, onCreated, onCancel }: { fixedDagId?: string; onCreated: (planId: number) => void; onCancel: () => void }) {
  const [doc, setDoc] = useState<PlanDoc>(() => ({
    ...(fixedDagId ? { dag_id: fixedDagId } : {}),
    ranges: [{ start: isoDay(7), end: isoDay(1) }],
  }));
  const [tab, setTab] = useState<"form" | "yaml">("form");
  const [yamlText, setYamlText] = useState("");
  const [yamlError, setYamlError] = useState<string | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [previewing, setPreviewing] = useState(false);
  const [asked, setAsked] = useState(0); // "Preview" pressed: preview now, without waiting for a pause
  const lastAsked = useRef(0);
  const [createError, setCreateError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);
  const [dagIds, setDagIds] = useState<string[]>([]);
  const [tasks, setTasks] = useState<string[]>([]);
  const dagId = typeof doc.dag_id === "string" ? doc.dag_id : "";
  const body = useMemo(() => JSON.stringify(doc), [doc]);

  const change = (path: string, value: Json | undefined) => {
    setDoc((current) => setPath(current, path, value));
    setCreateError(null);
  };

  useDelayed(
    (signal) => {
      if (!fixedDagId) api.dags(dagId, signal).then(setDagIds, () => setDagIds([]));
    },
    [dagId, fixedDagId],
    250,
  );
  useDelayed(
    (signal) => {
      if (dagId) api.tasks(dagId, signal).then(setTasks, () => setTasks([]));
      else setTasks([]);
    },
    [dagId],
    300,
  );

  useEffect(() => {
    // the live preview: the server plans what the form says, after a pause in typing
    if (!dagId) {
      setPreview(null);
      setPreviewError(null);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      setPreviewing(true);
      api
        .preview(JSON.parse(body), controller.signal)
        .then((found) => {
          setPreview(found);
          setPreviewError(null);
        })
        .catch((exc: unknown) => {
          if ((exc as Error).name === "AbortError") return;
          setPreview(null);
          setPreviewError(exc);
        })
        .finally(() => {
          if (!controller.signal.aborted) setPreviewing(false);
        });
    }, asked !== lastAsked.current ? 0 : 400);
    lastAsked.current = asked;
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [body, dagId, asked]);

  const fieldErrors: FieldError[] = [
    ...(createError instanceof ApiError ? createError.fields : []),
    ...(previewError instanceof ApiError ? previewError.fields : []),
  ];
  const errors = (path: string) => [
    ...new Set(fieldErrors.filter((f) => f.loc === path || f.loc.startsWith(`${path}.`)).map((f) => f.msg)),
  ];
  const props = { doc, onChange: change, errors };

  const create = () => {
    setCreating(true);
    setCreateError(null);
    api
      .create(doc)
      .then((found) => onCreated(found.plan.id))
      .catch(setCreateError)
      .finally(() => setCreating(false));
  };

  return (
    <section aria-label="new backfill plan">
      <div className="spread">
        <h1>New backfill plan{fixedDagId ? ` of ${fixedDagId}` : ""}</h1>
        <div className="row">
          <button type="button" aria-label="Back to plans" onClick={onCancel}>
            Back to plans
          </button>
        </div>
      </div>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === "form"} aria-label="Form" onClick={() => setTab("form")}>
          Form
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === "yaml"}
          aria-label="YAML"
          onClick={() => {
            setYamlText(yaml.dump(doc, { schema: yaml.CORE_SCHEMA, noRefs: true }));
            setYamlError(null);
            setTab("yaml");
          }}
        >
          YAML
        </button>
      </div>
      <div className="split">
      {tab === "yaml" ? (
        <div className="card">
          <label className="field">
            <span>The plan as YAML: read it, or paste one and apply it</span>
            <textarea aria-label="Plan YAML" rows={18} value={yamlText} onChange={(e) => setYamlText(e.target.value)} />
          </label>
          <div className="row">
            <button
              type="button"
              aria-label="Apply YAML"
              onClick={() => {
                try {
                  const loaded = yaml.load(yamlText, { schema: yaml.CORE_SCHEMA });
                  if (!loaded || typeof loaded !== "object" || Array.isArray(loaded)) throw new Error("a plan is a mapping of fields");
                  setDoc({ ...(loaded as PlanDoc), ...(fixedDagId ? { dag_id: fixedDagId } : {}) });
                  setYamlError(null);
                  setTab("form");
                } catch (exc) {
                  setYamlError((exc as Error).message);
                }
              }}
            >
              Apply YAML
            </button>
            {yamlError ? <span className="field-error">{yamlError}</span> : null}
          </div>
        </div>
      ) : (
        <div className="card">
          <h2>What to backfill</h2>
          <div className="grid2">
            <label className="field">
              <span>DAG</span>
              <input
                name="dag_id"
                aria-label="DAG"
                list="bfp-dag-ids"
                value={dagId}
                disabled={!!fixedDagId}
                className={errors("dag_id").length ? "invalid" : undefined}
                placeholder="dag_id"
                onChange={(e) => change("dag_id", e.target.value || undefined)}
              />
              <datalist id="bfp-dag-ids">
                {dagIds.map((d) => (
                  <option key={d} value={d} />
                ))}
              </datalist>
              <Errors messages={errors("dag_id")} />
            </label>
            <TextField label="Name" path="name" {...props} placeholder="default: made from DAG and dates" />
            <TextField label="Lot size" path="lot" {...props} placeholder="the DAG's schedule" hint="e.g. 1d, 7d, 6h, month" />
            <TextField label="Timezone" path="timezone" {...props} placeholder="the DAG's timezone" />
            <TextField label="Dates" path="dates" {...props} kind="list" placeholder="2024-01-05, 2024-02-01" hint="single days, besides the ranges" />
          </div>
          <Ranges {...props} />
          <h2>How it runs</h2>
          <div className="grid2">
            <SelectField label="Order" path="order" {...props} options={[["", "asc (default)"], ["desc", "desc"], ["none", "none"]]} />
            <TextField label="Parallelism" path="parallelism" {...props} kind="number" placeholder="1" hint="runs in flight per DAG" />
            <SelectField
              label="Self-dependency"
              path="self_dependency"
              {...props}
              options={[["", "inherit (default)"], ["on", "on"], ["off", "off"]]}
            />
            <SelectField
              label="Parent check"
              path="parent_check"
              {...props}
              options={[["", "none (default)"], ["all", "all"], ["scope", "scope"]]}
            />
            <SelectField
              label="Reprocess"
              path="reprocess"
              {...props}
              options={[["", "none (default): skip intervals that have a run"], ["failed", "failed: redo failed runs"], ["all", "all: redo every run"]]}
            />
            <SelectField label="Future intervals" path="run_future" {...props} options={[["", "wait (default)"], ["now", "now"]]} />
            <TextField label="Pool" path="pool" {...props} placeholder="the tasks' own" />
            <SelectField
              label="Weight rule"
              path="weight_rule"
              {...props}
              options={[["", "the priority as it is (default)"], ["absolute", "absolute"], ["downstream", "downstream"], ["upstream", "upstream"]]}
            />
            <TextField label="Queue" path="queue" {...props} placeholder="the tasks' own" hint="executor queue (Celery)" />
            <TextField label="Max failures" path="max_failures" {...props} kind="number" placeholder="no limit" hint="stop starting lots after this many failed" />
            <TextField label="Run window start" path="run_window.start" {...props} placeholder="HH:MM (any time)" hint="wall-clock hours lots may start in" />
            <TextField label="Run window end" path="run_window.end" {...props} placeholder="HH:MM" />
            <TextField label="Run window timezone" path="run_window.timezone" {...props} placeholder="the plan's timezone" />
            <TextField label="Priority weight" path="priority_weight" {...props} kind="number" placeholder="the tasks' own" />
            <TextField label="DAG version" path="dag_version" {...props} kind="number" placeholder="the latest" hint="an earlier version (versioned bundles only)" />
          </div>
          <div className="row" style={{ marginTop: 8 }}>
            <CheckField label="Create paused" path="paused" {...props} defaultValue={false} />
            <CheckField label="Also backfill downstream DAGs" path="downstream_dags" {...props} defaultValue={false} />
          </div>
          {doc.downstream_dags === true ? (
            <div className="grid2">
              <TextField label="Only these downstream DAGs" path="dags.include" {...props} kind="list" />
              <TextField label="Never these downstream DAGs" path="dags.exclude" {...props} kind="list" />
            </div>
          ) : null}
          <h2>Tasks</h2>
          <p className="muted">Tasks not selected are dry-run: marked success without running.</p>
          <div className="grid2">
            <TaskPicker label="Roots" path="tasks.roots" {...props} tasks={tasks} hint="run these (default: all tasks)" />
            <TaskPicker label="Include" path="tasks.include" {...props} tasks={tasks} hint="run exactly these" />
            <TaskPicker label="Exclude (dry-run)" path="tasks.exclude" {...props} tasks={tasks} hint="glob patterns: use YAML" />
          </div>
          <CheckField label="With roots, also run everything downstream of them" path="tasks.downstream" {...props} defaultValue={true} />
          <h2>Parameters and notifications</h2>
          <div className="row" style={{ alignItems: "flex-start" }}>
            <JsonField label="Conf" path="conf" {...props} hint="the DAG-run conf of every run" />
            <JsonField label="Task params" path="task_params" {...props} hint='{"task_id": {"param": value}}' />
            <JsonField label="Notify" path="notify" {...props} hint='{"notifiers": [{"notifier": "…", "kwargs": {}}]}' />
          </div>
          <div className="row" style={{ alignItems: "flex-start" }}>
            <TextField label="Tags" path="tags" {...props} kind="list" />
            <TextField label="Comment" path="comment" {...props} />
          </div>
        </div>
      )}
      <div className="card sticky" aria-live="polite" aria-label="preview">
        <div className="spread">
          <h2 style={{ margin: 0 }}>Preview {previewing ? <span className="muted">(updating…)</span> : null}</h2>
          <div className="row">
            <button type="button" aria-label="Preview" disabled={!dagId} onClick={() => setAsked((n) => n + 1)}>
              Preview
            </button>
            <button type="button" className="primary" aria-label="Create" disabled={creating || !dagId} onClick={create}>
              {creating ? "Creating…" : "Create"}
            </button>
          </div>
        </div>
        <ErrorAlert error={createError ?? previewError} />
        {preview ? <PreviewSummary preview={preview} /> : !previewError ? <p className="muted">Choose a DAG and its data time to see the lots.</p> : null}
      </div>
      </div>
    </section>
  );
}

function PreviewSummary({ preview }: { preview: Preview }) {
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
          </tr>
        </thead>
        <tbody>
          {preview.lots.map((lot) => (
            <tr key={lot.index}>
              <td>{lot.index}</td>
              <td>{lot.dag_id}</td>
              <td>{lot.label}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
