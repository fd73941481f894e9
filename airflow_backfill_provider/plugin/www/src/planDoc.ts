// The plan being edited, as a JSON document: read and write a field by its dotted path.
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type PlanDoc = { [key: string]: Json };

export function isoDay(daysAgo: number): string {
  const at = new Date(Date.now() - daysAgo * 86_400_000);
  return at.toISOString().slice(0, 10);
}

export function getPath(doc: PlanDoc, path: string): Json | undefined {
  let at: Json | undefined = doc;
  for (const key of path.split(".")) {
    if (at === null || typeof at !== "object") return undefined;
    at = Array.isArray(at) ? at[Number(key)] : at[key];
  }
  return at;
}

export function isEmpty(value: Json | undefined): boolean {
  return value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
}

/** A copy of ``doc`` with ``path`` set; empty values remove the key (and empty parents), so the plan
 * sent holds only what the user chose and the server's defaults apply to the rest. */
export function setPath(doc: PlanDoc, path: string, value: Json | undefined): PlanDoc {
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
    if (child && typeof child === "object" && !Array.isArray(child) && Object.keys(child).length === 0)
      delete parent[key];
  }
  return copy;
}

export const list = (text: string): string[] =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
