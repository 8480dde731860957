"""What runs inside a worker process: one region in, plain data out.

A worker builds its own agent, runs it on the process's single event loop,
writes the region's checkpoint itself and returns a ``RegionOutcome``. Nothing
of the SDK's crosses back to the driver: its agents, results and exceptions
do not pickle. This module is preloaded by the forkserver so that workers
start with the SDK already imported.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from agents import RunConfig, Runner, Usage, set_tracing_disabled
from loguru import logger

from leadgen import logs
from leadgen.checkpoint import Checkpoint, RegionUsage, TaggedCompany, write_checkpoint
from leadgen.errors import StorageError
from leadgen.prompts import region_input
from leadgen.region_agent import build_agent
from leadgen.schema import SCHEMA_VERSION, LeadListOutput
from leadgen.tasks import RegionOutcome, RegionTask

_loop: asyncio.AbstractEventLoop | None = None


def execute(task: RegionTask) -> RegionOutcome:
    """Run one region to completion, timeout or failure; never raises."""
    spec = task.spec
    log = logger.bind(region=spec.region, attempt=task.attempt)
    log.info(
        "region started  {}", logs.fields(region=spec.region, attempt=task.attempt)
    )
    started = time.time()

    try:
        checkpoint = _event_loop().run_until_complete(
            asyncio.wait_for(_run_agent(task, started), timeout=task.timeout_seconds)
        )
    except TimeoutError:
        return _failure(
            task,
            started,
            "timeout",
            "TimeoutError",
            f"no answer within {task.timeout_seconds:g} s",
        )
    except Exception as exc:  # a region's failure must not end the batch
        return _failure(
            task,
            started,
            "failed",
            type(exc).__name__,
            str(exc),
            usage=_failed_usage(exc),
        )

    return RegionOutcome(
        region=spec.region,
        status="done",
        attempt=task.attempt,
        seconds=checkpoint.seconds,
        companies=len(checkpoint.companies),
        usage=checkpoint.usage.model_dump(),
        pid=os.getpid(),
    )


async def _run_agent(task: RegionTask, started: float) -> Checkpoint:
    spec = task.spec
    set_tracing_disabled(not task.tracing)
    agent = build_agent(spec, latency=task.simulate_latency)
    result = await Runner.run(
        agent,
        region_input(spec),
        max_turns=spec.max_turns,
        run_config=RunConfig(tracing_disabled=not task.tracing),
    )
    output = result.final_output_as(LeadListOutput, raise_if_incorrect_type=True)

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
        usage=usage_fields(result.context_wrapper.usage),
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
    path = Path(task.checkpoint_path)
    try:
        write_checkpoint(path, checkpoint)
    except OSError as exc:
        raise StorageError(
            f"{path}: cannot write the checkpoint ({exc.strerror or exc})"
        ) from None
    return checkpoint


def usage_fields(usage: Usage) -> RegionUsage:
    """The SDK's usage object as plain numbers."""
    return RegionUsage(
        requests=usage.requests,
        input_tokens=usage.input_tokens,
        cached_tokens=usage.input_tokens_details.cached_tokens or 0,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.output_tokens_details.reasoning_tokens or 0,
        total_tokens=usage.total_tokens,
    )


def _failed_usage(exc: BaseException) -> dict[str, int]:
    # Only the SDK's own exceptions carry the usage of the failed run.
    run_data: Any = getattr(exc, "run_data", None)
    wrapper = getattr(run_data, "context_wrapper", None)
    usage = getattr(wrapper, "usage", None)
    return usage_fields(usage).model_dump() if isinstance(usage, Usage) else {}


def _failure(
    task: RegionTask,
    started: float,
    status: str,
    error_type: str,
    message: str,
    usage: dict[str, int] | None = None,
) -> RegionOutcome:
    return RegionOutcome(
        region=task.spec.region,
        status=status,
        attempt=task.attempt,
        seconds=round(time.time() - started, 3),
        usage=usage or {},
        error_type=error_type,
        error=message[:500] or error_type,
        pid=os.getpid(),
    )


def _event_loop() -> asyncio.AbstractEventLoop:
    # One loop for the life of the process: the OpenAI client binds to the loop
    # it first ran on, so a new loop per region would break it.
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
        asyncio.set_event_loop(_loop)
    return _loop


def _warm_up() -> None:
    # The forkserver imports this module once; loading the ZIP gazetteer here
    # lets every worker it forks share the loaded copy instead of each paying
    # about a second to parse it.
    from leadgen import gazetteer

    gazetteer.lookup("00000")


_warm_up()
