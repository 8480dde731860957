"""The executor regions run on, and how to stop its workers.

The default is a process pool whose workers fork from a server process that
has already imported the agents SDK, so a new worker costs milliseconds
instead of seconds. Any ``concurrent.futures.Executor`` can replace it.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

from loguru import logger

from leadgen.tasks import init_worker

ExecutorFactory = Callable[[int], Executor]

PRELOAD = ["leadgen.worker"]


def process_pool_factory(
    log_file: Path | None, verbose: bool, quiet: bool = False
) -> ExecutorFactory:
    """A factory of process pools whose workers log to ``log_file``."""

    def make(workers: int) -> Executor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=init_worker,
            initargs=(str(log_file) if log_file else None, verbose, quiet),
        )

    return make


def kill_workers(executor: Executor) -> int:
    """Kill a process pool's workers at once; returns how many were signalled.

    Used when a region ignores its timeout or when the user insists on
    stopping. Executors without local worker processes are left alone.
    """
    processes = getattr(executor, "_processes", None) or {}
    killed = 0
    for process in list(processes.values()):
        if process.is_alive():
            process.kill()
            killed += 1
    if killed:
        logger.debug(f"killed {killed} worker process(es)")
    return killed
