// Pages of a list the server paginates.

export function Pager({
  what,
  offset,
  page,
  total,
  onOffset,
}: {
  what: string;
  offset: number;
  page: number;
  total: number;
  onOffset: (offset: number) => void;
}) {
  return (
    <div className="row" style={{ marginTop: 8 }}>
      <button
        type="button"
        aria-label={`Previous ${what}`}
        disabled={offset === 0}
        onClick={() => onOffset(Math.max(offset - page, 0))}
      >
        Previous
      </button>
      <span className="muted">
        {total ? `${offset + 1}–${Math.min(offset + page, total)} of ${total}` : `no ${what}`}
      </span>
      <button
        type="button"
        aria-label={`Next ${what}`}
        disabled={offset + page >= total}
        onClick={() => onOffset(offset + page)}
      >
        Next
      </button>
    </div>
  );
}

/** Runs ``effect`` ``delayMs`` after ``deps`` last changed (typing pauses), aborting what it started
 * when they change again. */
