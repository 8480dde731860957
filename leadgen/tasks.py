"""The plain data that crosses between the driver and its workers.

Tasks and outcomes are small frozen dataclasses that pickle cheaply. The entry
points here import the agents SDK only inside the worker, so the driver starts
without paying for it; the forkserver preloads ``leadgen.worker`` instead.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadgen import logs
from leadgen.providers import ProviderSettings
from leadgen.spec import RegionSpec


@dataclass(frozen=True)
class RegionTask:
    """One region to run: its spec and cache key plus the timing knobs.

    ``checkpoint_path`` is an absolute local path or a storage URL, so that
    a worker on another machine or in another folder writes the same file.
    ``provider`` carries the keys the worker needs (its environment may not
    have them); it is left out of every ``repr`` and never written anywhere.
    """

    spec: RegionSpec
    cache_key: str
    checkpoint_path: str
    attempt: int = 1
    timeout_seconds: float = 900.0
    simulate_latency: float = 0.0
    tracing: bool = False
    provider: ProviderSettings | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RegionOutcome:
    """What a worker reports back about one attempt at a region."""

    region: str
    status: str  # "done", "failed" or "timeout"
    attempt: int
    seconds: float
    companies: int = 0
    usage: dict[str, Any] = field(default_factory=dict)
    error_type: str | None = None
    error: str | None = None
    pid: int = 0


def init_worker(log_file: str | None, verbose: bool, quiet: bool = False) -> None:
    """Prepare a fresh worker process.

    The terminal's Ctrl-C reaches every process in the group; workers ignore
    it so that the driver alone decides how to stop.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.configure(
        log_file=Path(log_file) if log_file else None, verbose=verbose, quiet=quiet
    )


def run_region(task: RegionTask) -> RegionOutcome:
    """Run one region in this process; see ``leadgen.worker.execute``."""
    from leadgen.worker import execute

    return execute(task)


def run_regions(tasks: tuple[RegionTask, ...]) -> list[RegionOutcome]:
    """Run regions together in this process; see ``leadgen.worker.execute_many``."""
    from leadgen.worker import execute_many

    return execute_many(tasks)
