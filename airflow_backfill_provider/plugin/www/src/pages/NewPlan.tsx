// The new-plan form: every plan field, the DAG's own tasks as pickers, a live preview
// from the server while typing, errors next to their fields, and the plan as YAML to read or paste.
import yaml from "js-yaml";
import { useState } from "react";

import { api, ApiError, type FieldError } from "../api";
import { ErrorAlert } from "../components/ErrorAlert";
import {
  CheckField,
  Errors,
  JsonField,
  Ranges,
  SelectField,
  TaskPicker,
  TextField,
} from "../components/PlanFields";
import { PreviewSummary } from "../components/PreviewSummary";
import { useDagChoices } from "../hooks/useDagChoices";
import { usePreview } from "../hooks/usePreview";
import { isoDay, setPath, type Json, type PlanDoc } from "../planDoc";

export function NewPlan({
  fixedDagId,
  onCreated,
  onCancel,
}: {
  fixedDagId?: string;
  onCreated: (planId: number) => void;
  onCancel: () => void;
}) {
  const [doc, setDoc] = useState<PlanDoc>(() => ({
    ...(fixedDagId ? { dag_id: fixedDagId } : {}),
    ranges: [{ start: isoDay(7), end: isoDay(1) }],
  }));
  const [tab, setTab] = useState<"form" | "yaml">("form");
  const [yamlText, setYamlText] = useState("");
  const [yamlError, setYamlError] = useState<string | null>(null);
  const [createError, setCreateError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);
  const dagId = typeof doc.dag_id === "string" ? doc.dag_id : "";
  const { preview, previewError, previewing, previewNow } = usePreview(doc, dagId);
  const { dagIds, tasks } = useDagChoices(dagId, fixedDagId);

  const change = (path: string, value: Json | undefined) => {
    setDoc((current) => setPath(current, path, value));
    setCreateError(null);
  };

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
        <button
          type="button"
          role="tab"
          aria-selected={tab === "form"}
          aria-label="Form"
          onClick={() => setTab("form")}
        >
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
              <textarea
                aria-label="Plan YAML"
                rows={18}
                value={yamlText}
                onChange={(e) => setYamlText(e.target.value)}
              />
            </label>
            <div className="row">
              <button
                type="button"
                aria-label="Apply YAML"
                onClick={() => {
                  try {
                    const loaded = yaml.load(yamlText, { schema: yaml.CORE_SCHEMA });
                    if (!loaded || typeof loaded !== "object" || Array.isArray(loaded))
                      throw new Error("a plan is a mapping of fields");
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
              <TextField
                label="Lot size"
                path="lot"
                {...props}
                placeholder="the DAG's schedule"
                hint="e.g. 1d, 7d, 6h, month"
              />
              <TextField label="Timezone" path="timezone" {...props} placeholder="the DAG's timezone" />
              <TextField
                label="Dates"
                path="dates"
                {...props}
                kind="list"
                placeholder="2024-01-05, 2024-02-01"
                hint="single days, besides the ranges"
              />
            </div>
            <Ranges {...props} />
            <h2>How it runs</h2>
            <div className="grid2">
              <SelectField
                label="Order"
                path="order"
                {...props}
                options={[
                  ["", "asc (default)"],
                  ["desc", "desc"],
                  ["none", "none"],
                ]}
              />
              <TextField
                label="Parallelism"
                path="parallelism"
                {...props}
                kind="number"
                placeholder="1"
                hint="runs in flight per DAG"
              />
              <SelectField
                label="Self-dependency"
                path="self_dependency"
                {...props}
                options={[
                  ["", "inherit (default)"],
                  ["on", "on"],
                  ["off", "off"],
                ]}
              />
              <SelectField
                label="Parent check"
                path="parent_check"
                {...props}
                options={[
                  ["", "none (default)"],
                  ["all", "all"],
                  ["scope", "scope"],
                ]}
              />
              <SelectField
                label="Reprocess"
                path="reprocess"
                {...props}
                options={[
                  ["", "none (default): skip intervals that have a run"],
                  ["failed", "failed: redo failed runs"],
                  ["all", "all: redo every run"],
                ]}
              />
              <SelectField
                label="Future intervals"
                path="run_future"
                {...props}
                options={[
                  ["", "wait (default)"],
                  ["now", "now"],
                ]}
              />
              <TextField label="Pool" path="pool" {...props} placeholder="the tasks' own" />
              <SelectField
                label="Weight rule"
                path="weight_rule"
                {...props}
                options={[
                  ["", "the priority as it is (default)"],
                  ["absolute", "absolute"],
                  ["downstream", "downstream"],
                  ["upstream", "upstream"],
                ]}
              />
              <TextField
                label="Queue"
                path="queue"
                {...props}
                placeholder="the tasks' own"
                hint="executor queue (Celery)"
              />
              <TextField
                label="Max failures"
                path="max_failures"
                {...props}
                kind="number"
                placeholder="no limit"
                hint="stop starting lots after this many failed"
              />
              <TextField
                label="Run window start"
                path="run_window.start"
                {...props}
                placeholder="HH:MM (any time)"
                hint="wall-clock hours lots may start in"
              />
              <TextField label="Run window end" path="run_window.end" {...props} placeholder="HH:MM" />
              <TextField
                label="Run window timezone"
                path="run_window.timezone"
                {...props}
                placeholder="the plan's timezone"
              />
              <TextField
                label="Priority weight"
                path="priority_weight"
                {...props}
                kind="number"
                placeholder="the tasks' own"
              />
              <TextField
                label="DAG version"
                path="dag_version"
                {...props}
                kind="number"
                placeholder="the latest"
                hint="an earlier version (versioned bundles only)"
              />
            </div>
            <div className="row" style={{ marginTop: 8 }}>
              <CheckField label="Create paused" path="paused" {...props} defaultValue={false} />
              <CheckField
                label="Also backfill downstream DAGs"
                path="downstream_dags"
                {...props}
                defaultValue={false}
              />
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
              <TaskPicker
                label="Roots"
                path="tasks.roots"
                {...props}
                tasks={tasks}
                hint="run these (default: all tasks)"
              />
              <TaskPicker
                label="Include"
                path="tasks.include"
                {...props}
                tasks={tasks}
                hint="run exactly these"
              />
              <TaskPicker
                label="Exclude (dry-run)"
                path="tasks.exclude"
                {...props}
                tasks={tasks}
                hint="glob patterns: use YAML"
              />
            </div>
            <CheckField
              label="With roots, also run everything downstream of them"
              path="tasks.downstream"
              {...props}
              defaultValue={true}
            />
            <h2>Parameters and notifications</h2>
            <div className="row" style={{ alignItems: "flex-start" }}>
              <JsonField label="Conf" path="conf" {...props} hint="the DAG-run conf of every run" />
              <JsonField
                label="Task params"
                path="task_params"
                {...props}
                hint='{"task_id": {"param": value}}'
              />
              <JsonField
                label="Notify"
                path="notify"
                {...props}
                hint='{"on": ["failure"], "targets": ["data-team"]}'
              />
            </div>
            <div className="row" style={{ alignItems: "flex-start" }}>
              <TextField label="Tags" path="tags" {...props} kind="list" />
              <TextField label="Comment" path="comment" {...props} />
            </div>
          </div>
        )}
        <div className="card sticky" aria-live="polite" aria-label="preview">
          <div className="spread">
            <h2 style={{ margin: 0 }}>
              Preview {previewing ? <span className="muted">(updating…)</span> : null}
            </h2>
            <div className="row">
              <button type="button" aria-label="Preview" disabled={!dagId} onClick={previewNow}>
                Preview
              </button>
              <button
                type="button"
                className="primary"
                aria-label="Create"
                disabled={creating || !dagId}
                onClick={create}
              >
                {creating ? "Creating…" : "Create"}
              </button>
            </div>
          </div>
          <ErrorAlert error={createError ?? previewError} />
          {preview ? (
            <PreviewSummary preview={preview} />
          ) : !previewError ? (
            <p className="muted">Choose a DAG and its data time to see the lots.</p>
          ) : null}
        </div>
      </div>
    </section>
  );
}
