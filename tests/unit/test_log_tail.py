"""A lot's detail reads only the end of a failed try's log: from the file's end on this host's disk,
at most a bounded part of a log it must stream."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from airflow_backfill_provider.service import queries


class Handler:
    def __init__(self, base: Path) -> None:
        self.local_base = str(base)

    def _render_filename(self, ti: object, try_number: int) -> str:
        return f"dag_id=d/run_id=r/task_id=t/attempt={try_number}.log"


def test_a_local_log_is_read_from_its_end(tmp_path: Path):
    path = tmp_path / "dag_id=d/run_id=r/task_id=t/attempt=1.log"
    path.parent.mkdir(parents=True)
    with path.open("w") as log:
        for i in range(400_000):  # about 20 MB
            log.write(json.dumps({"event": f"line {i}"}) + "\n")
        log.write(
            json.dumps(
                {"event": "Task failed", "error_detail": [{"exc_type": "ValueError", "exc_value": "boom"}]}
            )
            + "\n"
        )
    lines = queries._local_tail(Handler(tmp_path), SimpleNamespace(try_number=1))
    assert lines is not None and len(lines) < 20_000  # the last 256 kB (10,500 lines), not 20 MB (400,000)
    assert "boom" in lines[-1] and "line 399999" in lines[-2]
    assert all(line.startswith("{") for line in lines)  # the cut first line is dropped


def test_no_local_file_means_the_log_is_streamed_and_bounded(tmp_path: Path):
    assert queries._local_tail(Handler(tmp_path), SimpleNamespace(try_number=1)) is None
    assert queries._local_tail(object(), SimpleNamespace(try_number=1)) is None
    chunks = (f"chunk {i}\n" * 1000 for i in range(100_000))
    lines = queries._streamed(chunks)
    assert len(lines) <= queries.ERROR_LINES * 4 and "only its first 8 MB" in lines[-1]
