"""The kill-and-rerun loop of benchmarks/kill_rerun.py, with fewer rounds."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import REPO


def test_random_sigkills_lose_nothing() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "kill_rerun.py"),
            "--rounds",
            "3",
            "--regions",
            "12",
            "--min-delay",
            "2.5",
            "--max-delay",
            "4.5",
            "--seed",
            "3",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["kills"] >= 1
    assert figures["corrupt"] == figures["rerun_violations"] == 0
    assert figures["regions_lost"] == 0
    assert figures["identical"] is True
