"""The run lock: one live run per folder; a dead run's lock is taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from leadgen.errors import RunLockedError
from leadgen.lock import LOCK_NAME, RunLock


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_lock_of_a_dead_run_is_taken_over(tmp_path: Path) -> None:
    stale = {"pid": _dead_pid(), "host": socket.gethostname(), "since": "earlier"}
    (tmp_path / LOCK_NAME).write_text(json.dumps(stale))

    with RunLock(tmp_path):
        holder = json.loads((tmp_path / LOCK_NAME).read_text())
        assert holder["pid"] == os.getpid()

    assert not (tmp_path / LOCK_NAME).exists()


def test_lock_of_a_live_run_is_refused_with_its_holder(tmp_path: Path) -> None:
    with RunLock(tmp_path), pytest.raises(RunLockedError) as refused:
        RunLock(tmp_path).acquire()

    assert f"pid {os.getpid()}" in str(refused.value)


def test_unreadable_lock_counts_as_stale(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text("garbage")

    with RunLock(tmp_path):
        pass
