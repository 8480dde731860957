"""How long a rerun takes to decide that nothing needs to run.

Builds a run folder whose config has N regions (10,000 by default), each with
a valid checkpoint, then times the planning step twice: cold (no run.json, so
every checkpoint is parsed and validated) and warm (run.json from a previous
run, so unchanged checkpoints are only stat'ed), and finally the whole command
``run_batch.py`` including Python start-up. Target: warm ≤ 1 s.

    python benchmarks/resume.py --regions 10000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from sample_run import write_finished_region

from leadgen.checkpoint import TaggedCompany
from leadgen.config import load_config
from leadgen.plan import plan_run
from leadgen.spec import region_specs

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=10_000)
    parser.add_argument("--companies", type=int, default=10, help="per checkpoint")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="leadgen-resume-") as tmp:
        folder = Path(tmp)
        config_path = _write_config(folder, args.regions)
        run_dir = folder / "run"
        _write_checkpoints(config_path, run_dir, args.companies)
        loaded = load_config(config_path)

        started = time.perf_counter()
        cold = plan_run(loaded, run_dir)
        cold_seconds = time.perf_counter() - started
        assert not cold.todo, "a checkpoint was not accepted"
        cold.manifest.write(run_dir)

        started = time.perf_counter()
        warm = plan_run(loaded, run_dir)
        warm_seconds = time.perf_counter() - started
        assert not warm.todo

        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(REPO / "run_batch.py"),
                str(config_path),
                "--run-dir",
                str(run_dir),
                "--no-merge",
                "--quiet",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=REPO,
        )
        command_seconds = time.perf_counter() - started

    figures = {
        "regions": args.regions,
        "cold_plan_seconds": round(cold_seconds, 3),
        "warm_plan_seconds": round(warm_seconds, 3),
        "command_seconds": round(command_seconds, 3),
        "target_seconds": 1.0,
    }
    print(
        f"{args.regions} valid checkpoints: deciding nothing runs took "
        f"{warm_seconds:.2f} s warm (run.json present), {cold_seconds:.2f} s cold "
        f"(every checkpoint parsed); the whole command {command_seconds:.2f} s"
    )
    print(json.dumps(figures))


def _write_config(folder: Path, count: int) -> Path:
    regions = [
        {"name": f"Region {i:05d}", "zip_codes": ["80202"]} for i in range(count)
    ]
    config = {
        "name": "resume",
        "target": {"description": "Residential property management companies"},
        "geography": {"metro": "Denver", "state": "CO", "regions": regions},
        "agent": {"model": "offline"},
    }
    path = folder / "resume.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _write_checkpoints(config_path: Path, run_dir: Path, companies: int) -> None:
    """Valid checkpoints for every region (plain writes: this is set-up)."""
    batch = load_config(config_path).batch
    (run_dir / "checkpoints").mkdir(parents=True)
    for spec in region_specs(batch, "offline"):
        rows = [
            TaggedCompany(
                name=f"Company {n}",
                website=f"https://c{n}.example",
                phone=None,
                street_address=None,
                city="Denver",
                state="CO",
                postal_code="80202",
                source_url=None,
                meets_criteria=True,
                criteria_evidence="sample",
                rank=n + 1,
                discovery_source=spec.discovery_source,
            )
            for n in range(companies)
        ]
        write_finished_region(run_dir, spec, rows)


if __name__ == "__main__":
    main()
