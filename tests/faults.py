"""Faults injected into worker processes, for tests of failure handling.

``fault_pool`` builds a real process pool whose workers replace the offline
model's turn with a fault for chosen regions: raise an error, exit the process
abruptly, or block the event loop. Everything else runs unchanged.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from leadgen.pool import ExecutorFactory
from leadgen.tasks import init_worker

Faults = dict[str, str]  # region -> "raise" | "exit" | "hang" | "slow" | "nospace"


def fault_pool(faults: Faults) -> ExecutorFactory:
    """A process-pool factory whose workers carry the given faults."""

    def make(workers: int) -> Executor:
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_install,
            initargs=(faults,),
        )

    return make


def _install(faults: Faults) -> None:
    init_worker(None, False)

    from leadgen.offline_model import OfflineModel

    original = OfflineModel.get_response

    async def faulty(self: OfflineModel, *args: Any, **kwargs: Any) -> Any:
        text = str(args) + str(kwargs)
        for region, fault in faults.items():
            if f"Region: {region}\\n" in text or f"Region: {region}\n" in text:
                if fault == "slow":
                    await asyncio.sleep(3600)  # cooperative: a timeout can cancel it
                _trigger(fault)
        return await original(self, *args, **kwargs)

    OfflineModel.get_response = faulty  # type: ignore[method-assign]

    if "nospace" in faults.values():
        _fill_disk_for([r for r, f in faults.items() if f == "nospace"])


def _fill_disk_for(regions: list[str]) -> None:
    """Make checkpoint writes of these regions fail as on a full disk."""
    import errno

    from leadgen import checkpoint, worker

    original = checkpoint.write_checkpoint

    def full(path: Path, saved: checkpoint.Checkpoint) -> None:
        if saved.region in regions:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        original(path, saved)

    worker.write_checkpoint = full  # type: ignore[assignment]


def _trigger(fault: str) -> None:
    if fault == "raise":
        raise RuntimeError("injected failure")
    if fault == "exit":
        os._exit(17)
    if fault == "hang":
        time.sleep(3600)  # blocks the event loop: the in-worker timeout cannot fire
