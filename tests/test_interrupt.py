"""Killing and interrupting real runs: finished checkpoints always survive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from leadgen.checkpoint import read_checkpoint

from .conftest import REPO, SMALL_REGIONS, small_config

FOUR_REGIONS = [
    *SMALL_REGIONS,
    {"name": "West Side", "areas": ["Lakewood"], "zip_codes": ["80226", "80227"]},
]


def _start(config: Path, run_dir: Path, *extra: str) -> subprocess.Popen[bytes]:
    """Start a batch in its own process group, like a job in a terminal."""
    log = run_dir.parent / f"stderr-{time.monotonic_ns()}.txt"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "run_batch.py"),
                str(config),
                "--run-dir",
                str(run_dir),
                "--db",
                str(run_dir.parent / "l.duckdb"),
                *extra,
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    process.stderr_path = log  # type: ignore[attr-defined]
    return process


def _stderr(process: subprocess.Popen[bytes]) -> str:
    return process.stderr_path.read_text()  # type: ignore[attr-defined,no-any-return]


def _wait_for(predicate: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _snapshot(run_dir: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.name: (p.stat().st_mtime_ns, p.read_bytes())
        for p in (run_dir / "checkpoints").glob("*.json")
    }


def test_sigkill_of_the_process_group_then_rerun(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = write_config(
        small_config(
            geography={"metro": "Denver", "state": "CO", "regions": FOUR_REGIONS},
            run={"workers": 2, "retries": 0},
        )
    )
    run_dir = tmp_path / "run"
    process = _start(config, run_dir, "--simulate-latency", "1")

    _wait_for(lambda: len(list(run_dir.glob("checkpoints/*.json"))) >= 1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = _snapshot(run_dir)
    assert 1 <= len(before) < 4

    rerun = _start(config, run_dir)
    assert rerun.wait(timeout=120) == 0, _stderr(rerun)

    after = _snapshot(run_dir)
    assert len(after) == 4
    assert all(after[name] == before[name] for name in before)
    for path in (run_dir / "checkpoints").glob("*.json"):
        read_checkpoint(path)
    manifest = json.loads((run_dir / "run.json").read_text())
    skipped = {r["region"] for r in manifest["regions"] if r["status"] == "skipped"}
    assert len(skipped) == len(before)


def test_first_ctrl_c_exits_130_and_lets_running_regions_finish(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = write_config(
        small_config(
            geography={"metro": "Denver", "state": "CO", "regions": FOUR_REGIONS},
            run={"workers": 2, "retries": 0},
        )
    )
    run_dir = tmp_path / "run"
    log = run_dir / "leadgen.log"
    process = _start(config, run_dir, "--simulate-latency", "1.5", "--grace", "30")

    _wait_for(lambda: log.exists() and log.read_text().count("region started") >= 2)
    os.killpg(process.pid, signal.SIGINT)  # what the terminal's Ctrl-C does
    code = process.wait(timeout=60)
    stderr = _stderr(process)

    assert code == 130, stderr
    assert "Traceback" not in stderr
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "interrupted"
    statuses = sorted(r["status"] for r in manifest["regions"])
    assert statuses == ["cancelled", "cancelled", "done", "done"]
    assert len(list(run_dir.glob("checkpoints/*.json"))) == 2


def test_second_ctrl_c_stops_at_once(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = write_config(small_config(run={"workers": 3, "retries": 0}))
    run_dir = tmp_path / "run"
    process = _start(config, run_dir, "--simulate-latency", "30", "--grace", "60")

    _wait_for(
        lambda: (
            (run_dir / "leadgen.log").exists()
            and "region started" in (run_dir / "leadgen.log").read_text()
        )
    )
    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)
    started = time.monotonic()
    code = process.wait(timeout=30)

    assert code == 130
    assert time.monotonic() - started < 15
    manifest = json.loads((run_dir / "run.json").read_text())
    assert {r["status"] for r in manifest["regions"]} <= {"interrupted", "cancelled"}


def test_a_live_run_locks_its_folder(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = write_config(small_config())
    run_dir = tmp_path / "run"
    first = _start(config, run_dir, "--simulate-latency", "30")
    _wait_for(lambda: (run_dir / ".lock").exists())

    second = subprocess.run(
        [
            sys.executable,
            str(REPO / "run_batch.py"),
            str(config),
            "--run-dir",
            str(run_dir),
            "--no-merge",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()

    assert second.returncode == 4
    assert f"pid {first.pid}" in second.stderr
    assert second.stderr.count("\n") == 1
