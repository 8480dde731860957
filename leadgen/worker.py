"""What runs inside a worker process: one region in, plain data out.

A worker builds its own agent, runs it on its thread's single event loop,
writes the region's checkpoint itself and returns a ``RegionOutcome``. Nothing
of the SDK's crosses back to the driver: its agents, results and exceptions
do not pickle. This module is preloaded by the forkserver so that workers
start with the SDK already imported.

Checkpoints are write-once: an attempt that finds a valid checkpoint of its
region (an earlier attempt finished, and its worker died before reporting,
as happens on a Dask cluster) reports that checkpoint instead of running or
writing again.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

from loguru import logger

from leadgen import logs
from leadgen.agent_run import run_agent
from leadgen.checkpoint import (
    Checkpoint,
    RegionUsage,
    TaggedCompany,
    read_checkpoint,
    set_aside,
    write_checkpoint,
)
from leadgen.errors import CheckpointError, StorageError
from leadgen.schema import SCHEMA_VERSION
from leadgen.storage import Location, RemotePath, locate
from leadgen.tasks import RegionOutcome, RegionTask
from leadgen.usage import UsageMeter

# Event loops by thread, kept for the life of the process like the threads
# that use them.
_loops: dict[int, asyncio.AbstractEventLoop] = {}


def execute(task: RegionTask) -> RegionOutcome:
    """Run one region to completion, timeout or failure; never raises."""
    return _event_loop().run_until_complete(attempt(task))


def execute_many(tasks: tuple[RegionTask, ...]) -> list[RegionOutcome]:
    """Run several regions at once on this process's event loop.

    Each region still has its own timeout, checkpoint and outcome; sharing a
    process saves the memory and start-up of one process per region.
    """
    loop = _event_loop()
    return list(loop.run_until_complete(asyncio.gather(*map(attempt, tasks))))


async def attempt(task: RegionTask) -> RegionOutcome:
    """One attempt at a region, with its timeout; never raises."""
    spec = task.spec
    log = logger.bind(region=spec.region, attempt=task.attempt)
    finished = _stored_checkpoint(task)
    if finished is not None:
        log.info(
            "region already has a valid checkpoint; not running it again  {}",
            logs.fields(region=spec.region, attempt=task.attempt),
        )
        return _outcome(task, finished)

    log.info(
        "region started  {}", logs.fields(region=spec.region, attempt=task.attempt)
    )
    started = time.time()
    # The meter lives outside the run so that a failed or cancelled region
    # still reports what its requests used.
    meter = UsageMeter()

    try:
        checkpoint = await asyncio.wait_for(
            _run_agent(task, started, meter), timeout=task.timeout_seconds
        )
    except TimeoutError:
        return _failure(
            task,
            started,
            "timeout",
            "TimeoutError",
            f"no answer within {task.timeout_seconds:g} s",
            usage=_usage(task, meter),
        )
    except Exception as exc:  # a region's failure must not end the batch
        return _failure(
            task,
            started,
            "failed",
            type(exc).__name__,
            str(exc),
            usage=_usage(task, meter),
        )

    return _outcome(task, checkpoint)


def _outcome(task: RegionTask, checkpoint: Checkpoint) -> RegionOutcome:
    return RegionOutcome(
        region=task.spec.region,
        status="done",
        attempt=task.attempt,
        seconds=checkpoint.seconds,
        companies=len(checkpoint.companies),
        usage=checkpoint.usage.model_dump(),
        pid=os.getpid(),
    )


async def _run_agent(task: RegionTask, started: float, meter: UsageMeter) -> Checkpoint:
    spec = task.spec
    output = await run_agent(task, meter)

    finished = time.time()
    checkpoint = Checkpoint(
        schema_version=SCHEMA_VERSION,
        cache_key=task.cache_key,
        region=spec.region,
        discovery_source=spec.discovery_source,
        model=spec.model,
        attempt=task.attempt,
        started_at=started,
        finished_at=finished,
        seconds=round(finished - started, 3),
        usage=RegionUsage(**_usage(task, meter)),
        companies=[
            TaggedCompany(
                **company.model_dump(),
                rank=rank,
                discovery_source=spec.discovery_source,
            )
            for rank, company in enumerate(output.companies, start=1)
        ],
        search_exhausted=output.search_exhausted,
        quality_notes=output.quality_notes,
    )
    return _save(task, checkpoint)


def _save(task: RegionTask, checkpoint: Checkpoint) -> Checkpoint:
    """Write the region's checkpoint unless a valid one is already there.

    Returns the checkpoint that counts: this attempt's, or the one another
    attempt at the region wrote first, which is never replaced.
    """
    path = locate(task.checkpoint_path)
    for _ in range(2):
        kept = _stored_checkpoint(task, path)
        if kept is not None:
            logger.bind(region=task.spec.region).info(
                "another attempt wrote this region's checkpoint first; keeping it"
            )
            return kept
        try:
            write_checkpoint(path, checkpoint)
            return checkpoint
        except FileExistsError:
            # Remote storage holds a file that did not validate: keep it
            # aside for inspection and write this attempt's answer once more.
            if isinstance(path, RemotePath) and _stored_checkpoint(task, path) is None:
                set_aside(path, "damaged")
        except OSError as exc:
            raise StorageError(
                f"{path}: cannot write the checkpoint ({exc.strerror or exc})"
            ) from None
    raise StorageError(f"{path}: cannot write the checkpoint (it keeps changing)")


def _stored_checkpoint(
    task: RegionTask, path: Location | None = None
) -> Checkpoint | None:
    """The region's valid checkpoint for this task's cache key, if there is one.

    Storage that cannot be read counts as no checkpoint: the region then runs,
    and writing its answer reports the storage problem.
    """
    try:
        return read_checkpoint(path or locate(task.checkpoint_path), task.cache_key)
    except (OSError, CheckpointError):
        return None


def _usage(task: RegionTask, meter: UsageMeter) -> dict[str, Any]:
    """The attempt's usage as plain numbers, priced when the price is known."""
    price = task.provider.price if task.provider is not None else None
    return meter.as_dict(price)


def _scrub(task: RegionTask, message: str) -> str:
    # Some servers quote the key they refused; it must not reach the manifest.
    secrets = task.provider.credentials.secrets() if task.provider else []
    for secret in secrets:
        message = message.replace(secret, "[key]")
    return message


def _failure(
    task: RegionTask,
    started: float,
    status: str,
    error_type: str,
    message: str,
    usage: dict[str, Any] | None = None,
) -> RegionOutcome:
    return RegionOutcome(
        region=task.spec.region,
        status=status,
        attempt=task.attempt,
        seconds=round(time.time() - started, 3),
        usage=usage or {},
        error_type=error_type,
        error=_scrub(task, message)[:500] or error_type,
        pid=os.getpid(),
    )


def _event_loop() -> asyncio.AbstractEventLoop:
    # One loop for the life of the thread: the OpenAI client binds to the loop
    # it first ran on, so a new loop per region would break it. A pool worker
    # process has one thread; a Dask worker may run tasks on several threads,
    # and each needs a loop of its own.
    # Thread ids are reused once a thread ends, so the loop is also made the
    # current one each time: a new thread may inherit an old thread's loop.
    loop = _loops.get(threading.get_ident())
    if loop is None or loop.is_closed():
        loop = _loops[threading.get_ident()] = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


def _warm_up() -> None:
    # The forkserver imports this module once; loading the ZIP gazetteer here
    # lets every worker it forks share the loaded copy instead of each paying
    # about a second to parse it.
    from leadgen import gazetteer

    gazetteer.lookup("00000")


_warm_up()
