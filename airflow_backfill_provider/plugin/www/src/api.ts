// The page's one door to the server: the provider's REST API (contract §4) and, for DAG and task
// pickers, Airflow's own. Both are same-origin calls that the UI's session cookie authenticates.

export const LOT_STATES = [
  "pending",
  "waiting",
  "blocked",
  "running",
  "success",
  "failed",
  "skipped",
  "cancelled",
] as const;
export type LotState = (typeof LOT_STATES)[number];

export const PLAN_STATES = ["queued", "running", "paused", "success", "failed", "cancelled"] as const;
export type PlanState = (typeof PLAN_STATES)[number];
export const FINAL_PLAN_STATES: readonly string[] = ["success", "failed", "cancelled"];

export interface Plan {
  id: number;
  name: string;
  title?: string | null;
  dag_id: string;
  state: PlanState;
  counts: Record<string, number>;
  total_lots: number;
  timezone: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  created_by: string | null;
  warnings: string[];
  parallelism?: number;
  [field: string]: unknown;
}

export interface Lot {
  index: number;
  dag_id: string;
  label: string;
  system_date?: string | null;
  run_id: string | null;
  logical_date: string | null;
  data_interval_start: string;
  data_interval_end: string;
  state: LotState;
  reason: string | null;
  start_date: string | null;
  end_date: string | null;
}

export interface TaskInstance {
  task_id: string;
  map_index: number;
  state: string | null;
  try_number: number;
  hostname: string | null;
  start_date: string | null;
  end_date: string | null;
  note: string | null;
  dry_run: boolean;
  rendered_fields: Record<string, unknown>;
  error: string | null;
}

export interface LotDetail extends Lot {
  task_instances: TaskInstance[];
  timeline: { state: string; at: string }[];
}

export interface CalendarCell {
  dag_id: string;
  day: string;
  hour: number | null;
  state: LotState;
  counts: Record<string, number>;
  first_lot: number;
}

export interface Calendar {
  granularity: "hour" | "day" | "month" | "year";
  timezone: string;
  dags: string[];
  first_day: string | null;
  last_day: string | null;
  cells: CalendarCell[];
}

export interface Preview {
  total: number;
  lots: Lot[];
  dags: {
    dag_id: string;
    run_tasks: string[];
    dry_run_tasks: string[];
    self_dependency: boolean;
    parents: string[];
  }[];
  warnings: string[];
  name: string;
  timezone: string;
  data_start: string | null;
  data_end: string | null;
  calendar: Calendar | null;
  estimate: { seconds: number | null; runs_sampled: number; basis: string } | null;
  asset_consumers: string[];
  asset_consumers_hidden: number;
}

export interface FieldError {
  loc: string;
  msg: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: FieldError[] = [],
    readonly requestId: string | null = null,
  ) {
    super(message);
  }
}

/** A URL under the UI's base (the api-server may live under a sub-path). */
export function appUrl(path: string): string {
  return new URL(path.replace(/^\//, ""), document.baseURI).href;
}

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      credentials: "same-origin",
      // JSON even without a body: the service takes no write on the session cookie alone otherwise
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      ...init,
    });
  } catch (exc) {
    if ((exc as Error).name === "AbortError") throw exc;
    throw new ApiError(0, `the api-server did not answer: ${(exc as Error).message}`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = (
      body as { error?: { message?: string; fields?: FieldError[]; request_id?: string } } | null
    )?.error;
    const detail = (body as { detail?: unknown } | null)?.detail;
    const message =
      error?.message ??
      (typeof detail === "string" ? detail : null) ??
      (response.status === 401 || response.status === 403
        ? "you are not allowed to do this (log in again, or ask for rights on the DAG)"
        : `${response.status} ${response.statusText}`);
    throw new ApiError(response.status, message, error?.fields ?? [], error?.request_id ?? null);
  }
  return body as T;
}

function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const found = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") found.set(key, String(value));
  }
  const text = found.toString();
  return text ? `?${text}` : "";
}

const backfill = (path: string) => appUrl(`backfill/api/v1/${path}`);
const plan = (ref: string | number) => `plans/${encodeURIComponent(String(ref))}`;

export const api = {
  listPlans: (
    params: { dag_id?: string; state?: string; q?: string; limit: number; offset: number },
    signal?: AbortSignal,
  ) => call<{ plans: Plan[]; total: number }>(backfill(`plans${query(params)}`), { signal }),
  getPlan: (ref: string | number, signal?: AbortSignal) => call<Plan>(backfill(plan(ref)), { signal }),
  calendar: (ref: string | number, signal?: AbortSignal) =>
    call<Calendar>(backfill(`${plan(ref)}/calendar`), { signal }),
  lots: (
    ref: string | number,
    params: { state?: string; limit: number; offset: number },
    signal?: AbortSignal,
  ) => call<{ lots: Lot[]; total: number }>(backfill(`${plan(ref)}/lots${query(params)}`), { signal }),
  lot: (ref: string | number, index: number, signal?: AbortSignal) =>
    call<LotDetail>(backfill(`${plan(ref)}/lots/${index}`), { signal }),
  preview: (body: unknown, signal?: AbortSignal) =>
    call<Preview>(backfill(`plans${query({ preview: true, limit: 20 })}`), {
      body: JSON.stringify(body),
      method: "POST",
      signal,
    }),
  create: (body: unknown) =>
    call<{ plan: Plan; created: boolean }>(backfill("plans"), { body: JSON.stringify(body), method: "POST" }),
  steer: (ref: string | number, action: "pause" | "resume" | "cancel" | "retry", index?: number) =>
    call<Plan>(backfill(`${plan(ref)}/${action}${query({ index })}`), { method: "POST" }),
  /** Airflow's own REST API: DAG ids for the DAG picker. */
  dags: async (pattern: string, signal?: AbortSignal) => {
    const found = await call<{ dags: { dag_id: string }[] }>(
      appUrl(`api/v2/dags${query({ limit: 50, order_by: "dag_id", dag_id_pattern: pattern || undefined })}`),
      { signal },
    );
    return found.dags.map((d) => d.dag_id);
  },
  /** Airflow's own REST API: a DAG's tasks for the task pickers. */
  tasks: async (dagId: string, signal?: AbortSignal) => {
    const found = await call<{ tasks: { task_id: string }[] }>(
      appUrl(`api/v2/dags/${encodeURIComponent(dagId)}/tasks${query({ order_by: "task_id" })}`),
      { signal },
    );
    return found.tasks.map((t) => t.task_id);
  },
};

/** Links into Airflow's own pages. */
export const links = {
  dag: (dagId: string) => appUrl(`dags/${encodeURIComponent(dagId)}`),
  nativeBackfills: (dagId: string) => appUrl(`dags/${encodeURIComponent(dagId)}/backfills`),
  run: (dagId: string, runId: string) =>
    appUrl(`dags/${encodeURIComponent(dagId)}/runs/${encodeURIComponent(runId)}`),
  taskInstance: (dagId: string, runId: string, taskId: string, mapIndex: number) =>
    appUrl(
      `dags/${encodeURIComponent(dagId)}/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}` +
        (mapIndex >= 0 ? `/mapped/${mapIndex}` : ""),
    ),
};
