// An error as the page shows it: the server's message, its fields and request id.
import { ApiError } from "../api";

export function ErrorAlert({ error }: { error: unknown }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  return (
    <div className="alert" role="alert">
      <div>{api ? api.message : String((error as Error).message ?? error)}</div>
      {api?.fields.length ? (
        <ul>
          {api.fields.map((f, i) => (
            <li key={i}>
              <code>{f.loc || "(body)"}</code>: {f.msg}
            </li>
          ))}
        </ul>
      ) : null}
      {api?.requestId ? <div className="muted">request id {api.requestId}</div> : null}
    </div>
  );
}
