// The page's one door to the server: the provider's REST API (/backfill/api/v1) and, for DAG and task
// pickers, Airflow's own. Both are same-origin calls that the UI's session cookie authenticates.

import { lotStateValues, planStateValues, type components } from "./openapi-gen/schema";

type Schemas = components["schemas"];

// The server's own shapes, generated from its OpenAPI document (openapi-gen/, `npm run codegen`).
export type LotState = Schemas["LotState"];
export type PlanState = Schemas["PlanState"];
export type Action = Schemas["Action"];
export type Plan = Schemas["PlanOut"];
export type Lot = Schemas["LotOut"];
export type TaskInstance = Schemas["TaskInstanceOut"];
export type LotDetail = Schemas["LotDetailOut"];
export type CalendarCell = Schemas["CalendarCell"];
export type Calendar = Schemas["CalendarOut"];
export type Preview = Schemas["PreviewOut"];
export type BackfillPlan = Schemas["BackfillPlan"];
export const LOT_STATES: readonly LotState[] = lotStateValues;
export const PLAN_STATES: readonly PlanState[] = planStateValues;

/** Whether a plan has ended (success, failed or cancelled): the server sets ``ended_at`` then. */
export const hasEnded = (plan: Plan): boolean => plan.ended_at !== null;

export type FieldError = Schemas["FieldErrorOut"];

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
  ) => call<Schemas["PlanList"]>(backfill(`plans${query(params)}`), { signal }),
  getPlan: (ref: string | number, signal?: AbortSignal) => call<Plan>(backfill(plan(ref)), { signal }),
  calendar: (ref: string | number, signal?: AbortSignal) =>
    call<Calendar>(backfill(`${plan(ref)}/calendar`), { signal }),
  lots: (
    ref: string | number,
    params: { state?: string; limit: number; offset: number },
    signal?: AbortSignal,
  ) => call<Schemas["LotList"]>(backfill(`${plan(ref)}/lots${query(params)}`), { signal }),
  lot: (ref: string | number, index: number, signal?: AbortSignal) =>
    call<LotDetail>(backfill(`${plan(ref)}/lots/${index}`), { signal }),
  preview: (body: unknown, signal?: AbortSignal) =>
    call<Preview>(backfill(`plans${query({ preview: true, limit: 20 })}`), {
      body: JSON.stringify(body),
      method: "POST",
      signal,
    }),
  create: (body: unknown) =>
    call<Schemas["CreatedOut"]>(backfill("plans"), { body: JSON.stringify(body), method: "POST" }),
  steer: (ref: string | number, action: Action, index?: number) =>
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
