"""API keys never reach the run folder, the logs or the database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .conftest import REPO, small_config

FAKE_KEY = "sk-test-leadgen-FAKE-0123456789abcdef"


def test_fake_key_is_written_nowhere(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = write_config(small_config())
    data = tmp_path / "data"
    env = {**os.environ, "OPENAI_API_KEY": FAKE_KEY, "TAVILY_API_KEY": FAKE_KEY}

    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "run_batch.py"),
            str(config),
            "--data-dir",
            str(data),
            "--verbose",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr.decode()
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"run.json", "leadgen.log", "leadgen.duckdb"}
    for path in files:
        assert FAKE_KEY.encode() not in path.read_bytes(), path
    assert FAKE_KEY.encode() not in done.stderr + done.stdout
