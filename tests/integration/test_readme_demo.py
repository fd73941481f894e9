"""README command 1: airflow standalone with the provider runs the demo plan to success."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.harness import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_demo_plan_runs_to_success_on_airflow_standalone(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(tmp_path / "home")
    env["AIRFLOW__API__HOST"] = "127.0.0.1"  # standalone would listen on every address
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--port", str(free_port()), "--stop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "submitted plan demo-rebuild-week: 7 lots" in done.stdout
    assert "success: 7 success" in done.stdout
