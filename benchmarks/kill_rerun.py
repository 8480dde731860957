"""Kill a batch at random moments, rerun it, and check that nothing was lost.

Each round starts ``run_batch.py`` in its own process group and sends SIGKILL
to the whole group after a random delay. After every kill, each checkpoint
must parse and validate, and every checkpoint seen before must be unchanged
(a region with a valid checkpoint never runs again). Finally the batch is run
to completion and its companies table must equal that of a run that was never
interrupted.

    python benchmarks/kill_rerun.py --rounds 20 --regions 36

Prints a summary and one final JSON line with the figures; exits 1 when an
invariant was broken.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import yaml

from leadgen import gazetteer
from leadgen.checkpoint import read_checkpoint

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    args = _arguments()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="leadgen-kill-") as tmp:
        folder = Path(tmp)
        config = _write_config(folder, args.regions)

        reference = _run(
            config, folder / "reference", folder / "reference.duckdb", args
        )
        assert reference.wait() == 0, "the uninterrupted run failed"

        figures = _chaos(config, folder, args, rng)

    print(
        f"{figures['rounds']} rounds, {figures['kills']} kills, "
        f"{figures['checkpoints_at_kill']} checkpoints checked after kills, "
        f"{figures['corrupt']} corrupt, {figures['rerun_violations']} rewritten, "
        f"companies identical to an uninterrupted run: {figures['identical']}"
    )
    print(json.dumps(figures))
    broken = (
        figures["corrupt"] or figures["rerun_violations"] or not figures["identical"]
    )
    return 1 if broken else 0


def _chaos(
    config: Path, folder: Path, args: argparse.Namespace, rng: random.Random
) -> dict[str, Any]:
    run_dir, db = folder / "chaos", folder / "chaos.duckdb"
    seen: dict[str, str] = {}
    corrupt = violations = kills = checked = 0

    for _ in range(args.rounds):
        process = _run(config, run_dir, db, args)
        time.sleep(rng.uniform(args.min_delay, args.max_delay))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()

        for path in sorted(run_dir.glob("checkpoints/*.json")):
            checked += 1
            try:
                read_checkpoint(path)
            except Exception:
                corrupt += 1
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if seen.setdefault(path.name, digest) != digest:
                violations += 1

    final = _run(config, run_dir, db, args)
    finished = final.wait() == 0
    identical = finished and _companies(folder / "reference.duckdb") == _companies(db)
    return {
        "rounds": args.rounds,
        "kills": kills,
        "regions": args.regions,
        "checkpoints_at_kill": checked,
        "corrupt": corrupt,
        "rerun_violations": violations,
        "regions_lost": 0 if finished else args.regions,
        "identical": identical,
    }


def _run(
    config: Path, run_dir: Path, db: Path, args: argparse.Namespace
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            str(REPO / "run_batch.py"),
            str(config),
            "--run-dir",
            str(run_dir),
            "--db",
            str(db),
            "--workers",
            str(args.workers),
            "--simulate-latency",
            str(args.latency),
            "--quiet",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _companies(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT * EXCLUDE (run_name) FROM companies ORDER BY company_id"
        ).fetchall()


def _write_config(folder: Path, count: int) -> Path:
    """One region per ZIP code around downtown Denver."""
    centre = gazetteer.lookup("80202")
    assert centre is not None
    places = gazetteer.nearest(centre, count)
    regions = [
        {"name": f"ZIP {place.zip_code}", "zip_codes": [place.zip_code]}
        for place in places
    ]
    config = {
        "name": "chaos",
        "target": {
            "description": "Residential property management companies",
            "criteria": {"min_units": 50},
        },
        "geography": {"metro": "Denver", "state": "CO", "regions": regions},
        "agent": {"model": "offline"},
        "run": {"workers": 4, "retries": 1},
    }
    path = folder / "chaos.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--regions", type=int, default=36)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--min-delay", type=float, default=0.5)
    parser.add_argument("--max-delay", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
