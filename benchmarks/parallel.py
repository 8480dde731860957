"""Parallel speed-up, scale, memory and runner overhead of a batch.

All runs use the offline model with ``--simulate-latency``, so the only thing
measured is leadgen itself. Each region takes two model turns, so its agent
time is T = 2 × latency. With N regions and C of them in flight no runner can
beat ceil(N/C) × T.

    python benchmarks/parallel.py speedup     # 4 regions of ~6 s, 1 vs 4 workers
    python benchmarks/parallel.py scale       # 256 regions at 32 and 64 in flight
    python benchmarks/parallel.py overhead    # start-up and per-region cost
    python benchmarks/parallel.py all

Prints a human summary and one final JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from leadgen import gazetteer
from leadgen.checkpoint import read_checkpoint

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["speedup", "scale", "overhead", "all"])
    parser.add_argument("--regions", type=int, default=256, help="for scale")
    parser.add_argument("--turn", type=float, default=3.0, help="latency per turn")
    parser.add_argument(
        "--per-worker", type=int, default=8, help="regions per process, for scale"
    )
    args = parser.parse_args()

    figures: dict[str, Any] = {}
    if args.mode in ("speedup", "all"):
        figures["speedup"] = speedup(args.turn)
    if args.mode in ("scale", "all"):
        figures["scale"] = [
            scale(args.regions, c, args.turn, args.per_worker) for c in (32, 64)
        ]
    if args.mode in ("overhead", "all"):
        figures["overhead"] = overhead()
    print(json.dumps(figures))


def speedup(turn: float) -> dict[str, Any]:
    """4 regions with 1 worker and with 4."""
    one = _batch(4, workers=1, turn=turn)
    four = _batch(4, workers=4, turn=turn)
    result = {
        "region_seconds": 2 * turn,
        "one_worker_batch_seconds": one["batch_seconds"],
        "four_workers_batch_seconds": four["batch_seconds"],
        "speedup_batch": round(one["batch_seconds"] / four["batch_seconds"], 3),
        "one_worker_command_seconds": one["command_seconds"],
        "four_workers_command_seconds": four["command_seconds"],
        "speedup_command": round(one["command_seconds"] / four["command_seconds"], 3),
        "target": 3.8,
    }
    print(
        f"speed-up, 4 regions of {2 * turn:g} s: {result['speedup_batch']}x from the "
        f"first region's start to the last one's end "
        f"({one['batch_seconds']} s -> {four['batch_seconds']} s); "
        f"{result['speedup_command']}x for the whole command including start-up "
        f"({one['command_seconds']} s -> {four['command_seconds']} s)"
    )
    return result


def scale(regions: int, in_flight: int, turn: float, per_worker: int) -> dict[str, Any]:
    """Many regions at a fixed number in flight, with peak memory."""
    per_worker = min(per_worker, in_flight)
    run = _batch(
        regions,
        workers=in_flight // per_worker,
        turn=turn,
        measure_memory=True,
        per_worker=per_worker,
    )
    limit = math.ceil(regions / in_flight) * 2 * turn
    result = {
        "regions": regions,
        "in_flight": in_flight,
        "regions_per_worker": per_worker,
        "limit_seconds": limit,
        "batch_seconds": run["batch_seconds"],
        "command_seconds": run["command_seconds"],
        "batch_over_limit": round(run["batch_seconds"] / limit - 1, 4),
        "command_over_limit": round(run["command_seconds"] / limit - 1, 4),
        "peak_pss_mb": run["peak_pss_mb"],
        "peak_rss_mb": run["peak_rss_mb"],
        "processes": run["processes"],
    }
    print(
        f"scale, {regions} regions at {in_flight} in flight ({per_worker} per "
        f"process): limit {limit:g} s, "
        f"batch {run['batch_seconds']} s ({result['batch_over_limit']:+.1%}), "
        f"command {run['command_seconds']} s ({result['command_over_limit']:+.1%}); "
        f"peak memory {run['peak_pss_mb']} MB PSS ({run['peak_rss_mb']} MB RSS) "
        f"over {run['processes']} processes"
    )
    return result


def overhead() -> dict[str, Any]:
    """Start-up to the first region, and the runner's own cost per region."""
    latency, count = 0.05, 60
    run = _batch(count, workers=1, turn=latency)
    starts = sorted(c["started_at"] for c in run["checkpoints"])
    gaps = [b - a - 2 * latency for a, b in zip(starts, starts[1:], strict=False)]
    inside = [c["seconds"] - 2 * latency for c in run["checkpoints"]]
    result = {
        "first_region_after_seconds": run["first_region_after"],
        "per_region_overhead_ms_median": round(statistics.median(gaps) * 1000, 1),
        "per_region_overhead_ms_p90": round(
            sorted(gaps)[int(len(gaps) * 0.9)] * 1000, 1
        ),
        "in_worker_overhead_ms_median": round(statistics.median(inside) * 1000, 1),
        "target_ms": 30,
    }
    print(
        f"overhead: first region running {run['first_region_after']} s after the "
        f"command started; runner cost per region (one worker, {count} regions, "
        f"agent time excluded): median {result['per_region_overhead_ms_median']} ms, "
        f"p90 {result['per_region_overhead_ms_p90']} ms, of which inside the worker "
        f"{result['in_worker_overhead_ms_median']} ms"
    )
    return result


def _batch(
    regions: int,
    workers: int,
    turn: float,
    measure_memory: bool = False,
    per_worker: int = 1,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="leadgen-parallel-") as tmp:
        folder = Path(tmp)
        config = _write_config(folder, regions, workers, per_worker)
        run_dir = folder / "run"
        started = time.time()
        process = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "run_batch.py"),
                str(config),
                "--run-dir",
                str(run_dir),
                "--no-merge",
                "--quiet",
                "--simulate-latency",
                str(turn),
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        sampler = _MemorySampler(process.pid) if measure_memory else None
        code = process.wait()
        ended = time.time()
        if sampler is not None:
            sampler.stop()
        assert code == 0, f"batch failed with exit code {code}"

        checkpoints = [
            read_checkpoint(path).model_dump(
                include={"started_at", "finished_at", "seconds"}
            )
            for path in run_dir.glob("checkpoints/*.json")
        ]
    first = min(c["started_at"] for c in checkpoints)
    last = max(c["finished_at"] for c in checkpoints)
    return {
        "batch_seconds": round(last - first, 3),
        "command_seconds": round(ended - started, 3),
        "first_region_after": round(first - started, 3),
        "checkpoints": checkpoints,
        "peak_pss_mb": sampler.peak_pss_mb if sampler else None,
        "peak_rss_mb": sampler.peak_rss_mb if sampler else None,
        "processes": sampler.processes if sampler else None,
    }


class _MemorySampler:
    """Samples the summed memory of a process group every 0.2 s."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.peak_pss_mb = 0
        self.peak_rss_mb = 0
        self.processes = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(0.2):
            pss = rss = count = 0
            for pid in _group(self.pgid):
                fields = _smaps_rollup(pid)
                pss += fields.get("Pss", 0)
                rss += fields.get("Rss", 0)
                count += 1
            self.peak_pss_mb = max(self.peak_pss_mb, pss // 1024)
            self.peak_rss_mb = max(self.peak_rss_mb, rss // 1024)
            self.processes = max(self.processes, count)


def _group(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


def _smaps_rollup(pid: int) -> dict[str, int]:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines()[1:]:
        name, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[0].isdigit():
            fields[name] = int(parts[0])
    return fields


def _write_config(folder: Path, count: int, workers: int, per_worker: int) -> Path:
    """One region per ZIP code around downtown Denver (repeated if needed)."""
    centre = gazetteer.lookup("80202")
    assert centre is not None
    places = gazetteer.nearest(centre, min(count, 200))
    regions = [
        {"name": f"Region {i:04d}", "zip_codes": [places[i % len(places)].zip_code]}
        for i in range(count)
    ]
    config = {
        "name": "parallel",
        "target": {"description": "Residential property management companies"},
        "geography": {"metro": "Denver", "state": "CO", "regions": regions},
        "agent": {"model": "offline", "timeout_seconds": 600},
        "run": {"workers": workers, "regions_per_worker": per_worker, "retries": 0},
    }
    path = folder / "parallel.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


if __name__ == "__main__":
    main()
