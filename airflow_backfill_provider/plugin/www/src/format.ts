// How the page writes states, times and durations.

export const STATE_COLORS: Record<string, string> = {
  pending: "#a0aec0",
  waiting: "#d69e2e",
  blocked: "#dd6b20",
  running: "#3182ce",
  queued: "#a0aec0",
  paused: "#805ad5",
  success: "#38a169",
  failed: "#e53e3e",
  skipped: "#d53f8c",
  cancelled: "#4a5568",
  up_for_retry: "#d69e2e",
  upstream_failed: "#dd6b20",
  deferred: "#805ad5",
  scheduled: "#b7791f",
  removed: "#718096",
};

export function stateColor(state: string | null | undefined): string {
  return STATE_COLORS[state ?? ""] ?? "#a0aec0";
}

export function dateTime(value: string | null | undefined): string {
  if (!value) return "–";
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? value : at.toLocaleString();
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function between(start: string | null, end: string | null): number | null {
  if (!start) return null;
  const to = end ? new Date(end) : new Date();
  return (to.getTime() - new Date(start).getTime()) / 1000;
}
