"""The batch driver: plan a run, run its regions in parallel, report.

The driver decides what runs (regions without a valid checkpoint), submits
batches of regions to an executor (the local process pool, or a Dask cluster
with ``executor="dask"``), and reacts to each outcome: retry, record a
failure, rebuild a broken pool, stop on Ctrl-C. Workers write checkpoints
themselves, so a driver that dies loses nothing that finished; a region whose
valid checkpoint exists counts as done, however its attempt ended.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

from loguru import logger

from leadgen import logs
from leadgen.checkpoint import read_checkpoint
from leadgen.config import LoadedConfig
from leadgen.errors import CheckpointError, StorageError, UsageError, WorkerLostError
from leadgen.lock import RunLock
from leadgen.manifest import Manifest, RegionRecord, file_stat
from leadgen.plan import RunPlan, plan_run
from leadgen.pool import ExecutorFactory, kill_workers, process_pool_factory
from leadgen.providers import ProviderSettings, preflight
from leadgen.storage import Location, RemotePath, locate
from leadgen.tasks import RegionOutcome, RegionTask, run_regions
from leadgen.usage import add_usage

HANG_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.2
MANIFEST_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class RunOptions:
    """Command-line choices for one batch run.

    ``executor`` and ``scheduler`` override the config's ``run`` settings;
    ``storage`` is a URL (or folder) for checkpoints and ``run.json`` when
    they should not live in the run folder. ``executor_factory``, when given,
    replaces the executor choice altogether.
    """

    data_dir: Path = Path("data")
    run_dir: Path | None = None
    workers: int | None = None
    regions_per_worker: int | None = None
    only: tuple[str, ...] = ()
    fresh: bool = False
    simulate_latency: float = 0.0
    verbose: bool = False
    quiet: bool = False
    grace_seconds: float = 10.0
    hang_grace_seconds: float = HANG_GRACE_SECONDS
    executor_factory: ExecutorFactory | None = None
    executor: str | None = None
    scheduler: str | None = None
    storage: str | None = None


@dataclass
class RunSummary:
    """The result of a batch run, for the summary table and the exit code."""

    run_dir: Path
    records: list[RegionRecord]
    skipped: int
    interrupted: bool
    min_success_share: float
    moved_aside: Path | None = None
    # Where the checkpoints and run.json are: the run folder unless --storage.
    storage: Location | None = None

    @property
    def succeeded(self) -> int:
        return sum(record.succeeded for record in self.records)

    @property
    def success_share(self) -> float:
        return self.succeeded / len(self.records) if self.records else 1.0

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 0 if self.success_share >= self.min_success_share else 3


def run_batch(loaded: LoadedConfig, options: RunOptions) -> RunSummary:
    """Run (or resume) the batch a config describes and report how it went."""
    run_dir = options.run_dir or options.data_dir / "runs" / loaded.name
    storage = locate(options.storage) if options.storage else run_dir
    if options.fresh and isinstance(storage, RemotePath):
        raise UsageError(
            f"--fresh: {storage} is remote storage, whose checkpoints leadgen never "
            "moves or deletes; give a new --storage URL to start over"
        )
    moved_aside = _move_aside(run_dir) if options.fresh else None
    _make_folder(run_dir, storage)

    with RunLock(run_dir):
        sink = logger.add(
            run_dir / "leadgen.log", level="DEBUG", format=logs.FILE_FORMAT
        )
        try:
            plan = _plan(loaded, run_dir, options.only, storage)
            provider = preflight(plan)
            summary = _execute(plan, options, provider)
        finally:
            logger.remove(sink)
    summary.moved_aside = moved_aside
    return summary


def _plan(
    loaded: LoadedConfig, run_dir: Path, only: tuple[str, ...], storage: Location
) -> RunPlan:
    try:
        return plan_run(loaded, run_dir, only, storage)
    except OSError as exc:
        raise StorageError(
            f"{storage}: cannot read the run's checkpoints or run.json "
            f"({exc.strerror or exc}); check the location and its permissions or "
            "credentials"
        ) from None


def _execute(
    plan: RunPlan, options: RunOptions, provider: ProviderSettings | None = None
) -> RunSummary:
    batch = plan.loaded.batch
    tasks = [
        RegionTask(
            spec=item.spec,
            cache_key=item.cache_key,
            checkpoint_path=_absolute(item.checkpoint_path),
            timeout_seconds=batch.agent.timeout_seconds,
            simulate_latency=options.simulate_latency,
            tracing=batch.agent.tracing,
            provider=provider,
        )
        for item in plan.todo
    ]
    with _executor(plan, options, bool(tasks)) as (factory, workers, hang_grace):
        driver = _Driver(
            plan,
            tasks,
            factory,
            workers,
            options.grace_seconds,
            hang_grace,
            per_worker=options.regions_per_worker or batch.run.regions_per_worker,
        )
        interrupted = driver.run()
    return RunSummary(
        run_dir=plan.run_dir,
        records=[plan.manifest.regions[name] for name in plan.selected],
        skipped=len(plan.skipped),
        interrupted=interrupted,
        min_success_share=batch.run.min_success_share,
        storage=plan.storage,
    )


@contextmanager
def _executor(
    plan: RunPlan, options: RunOptions, needed: bool
) -> Iterator[tuple[ExecutorFactory, int, float]]:
    """The executor factory of this run, how many batches it runs at once,
    and how long past a region's timeout the driver waits before giving up.

    A Dask cluster is connected to before anything runs (and only when a
    region needs to run), so a wrong address stops the run at once. On a
    cluster the batches in flight default to the cluster's worker threads,
    and a batch may take one extra timeout: its worker may have died and the
    scheduler started it again elsewhere, which the driver cannot see.
    """
    settings = plan.loaded.batch.run
    workers = options.workers or settings.workers
    kind = options.executor or settings.executor
    scheduler = options.scheduler or settings.scheduler
    if kind not in ("process", "dask"):
        raise UsageError(f"executor {kind!r}: choose 'process' or 'dask'")
    if kind == "process" and options.scheduler:
        raise UsageError("--scheduler is for --executor dask; add --executor dask")

    if options.executor_factory is not None or kind == "process" or not needed:
        yield (
            options.executor_factory
            or process_pool_factory(
                plan.run_dir / "leadgen.log", options.verbose, options.quiet
            ),
            workers,
            options.hang_grace_seconds,
        )
        return

    from leadgen.cluster import connect

    timeout = plan.loaded.batch.agent.timeout_seconds
    with connect(scheduler, options.verbose, options.quiet) as cluster:
        in_flight = options.workers or cluster.threads or workers
        yield cluster.factory, in_flight, options.hang_grace_seconds + timeout


@dataclass
class _InFlight:
    """Regions sent together to one worker process."""

    tasks: tuple[RegionTask, ...]
    submitted: float
    isolated: bool = False
    hung: bool = False

    @property
    def deadline(self) -> float:
        return self.submitted + max(task.timeout_seconds for task in self.tasks)


@dataclass
class _Driver:
    """State of one execution: what is queued, running and finished."""

    plan: RunPlan
    tasks: list[RegionTask]
    factory: ExecutorFactory
    workers: int
    grace_seconds: float
    hang_grace_seconds: float
    per_worker: int = 1
    queue: deque[RegionTask] = field(default_factory=deque)
    suspects: deque[RegionTask] = field(default_factory=deque)
    in_flight: dict[Future[list[RegionOutcome]], _InFlight] = field(
        default_factory=dict
    )
    stop_requests: int = 0
    stop_deadline: float | None = None
    executor: Executor | None = None
    manifest_written: float = 0.0

    @property
    def manifest(self) -> Manifest:
        return self.plan.manifest

    def run(self) -> bool:
        """Run every queued region; True when the run was interrupted."""
        self.queue.extend(self.tasks)
        self.workers = max(1, min(self.workers, len(self.tasks) or 1))
        self.per_worker = max(1, self.per_worker)
        self._write_manifest(force=True)
        if not self.tasks:
            self.manifest.status = "finished"
            self._write_manifest(force=True)
            return False

        logger.info(
            f"running {len(self.tasks)} region(s) on {self.workers} worker(s), "
            f"{self.per_worker} at a time each  "
            + logs.fields(model=self.plan.model, run_dir=self.plan.run_dir)
        )
        previous = self._install_sigint()
        try:
            interrupted = self._loop()
        finally:
            self._restore_sigint(previous)
            self._shutdown()

        self.manifest.status = "interrupted" if interrupted else "finished"
        self._write_manifest(force=True)
        return interrupted

    def _loop(self) -> bool:
        self.executor = self.factory(self.workers)
        while True:
            if self.stop_requests == 0:
                self._fill()
            if not self.in_flight:
                return self.stop_requests > 0

            done, _ = wait(
                list(self.in_flight), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED
            )
            for future in done:
                if future in self.in_flight:
                    self._collect(future)

            self._check_hung()
            if self._must_stop_now():
                self._abandon_in_flight()
                return True

    def _fill(self) -> None:
        # Regions that were running when a worker died run alone until the
        # one that kills its worker is known; the rest wait meanwhile.
        if self.suspects:
            if not self.in_flight:
                self._submit((self.suspects.popleft(),), isolated=True)
            return
        while self.queue and len(self.in_flight) < self.workers:
            free = self.workers - len(self.in_flight)
            size = min(self.per_worker, -(-len(self.queue) // free))
            self._submit(tuple(self.queue.popleft() for _ in range(size)))

    def _submit(self, tasks: tuple[RegionTask, ...], isolated: bool = False) -> None:
        assert self.executor is not None
        for task in tasks:
            record = self.manifest.regions[task.spec.region]
            record.status = "running"
            record.attempts = max(record.attempts, task.attempt)
        future = self.executor.submit(run_regions, tasks)
        self.in_flight[future] = _InFlight(tasks, time.monotonic(), isolated)

    @property
    def running(self) -> int:
        return sum(len(item.tasks) for item in self.in_flight.values())

    def _collect(self, future: Future[list[RegionOutcome]]) -> None:
        try:
            outcomes = future.result()
        except BrokenProcessPool:
            self._pool_broke()
            return
        except CancelledError:
            # Only an executor cancels on its own (a cluster that lost its
            # scheduler); the driver drops what it cancels before that.
            tasks = self.in_flight[future].tasks
            outcomes = [
                _lost(task, "CancelledError", "the executor cancelled it")
                for task in tasks
            ]
        except WorkerLostError as exc:
            tasks = self.in_flight[future].tasks
            outcomes = [
                _lost(task, "WorkerDied", str(exc), status="crashed") for task in tasks
            ]
        except Exception as exc:  # the tasks could not even be sent or returned
            tasks = self.in_flight[future].tasks
            outcomes = [_lost(task, type(exc).__name__, str(exc)) for task in tasks]

        item = self.in_flight.pop(future)
        for task, outcome in zip(item.tasks, outcomes, strict=True):
            self._record(task, outcome)

    def _record(self, task: RegionTask, outcome: RegionOutcome) -> None:
        outcome = self._checked(task, outcome)
        record = self.manifest.regions[task.spec.region]
        record.attempts = max(record.attempts, outcome.attempt)
        record.seconds = outcome.seconds
        record.usage = add_usage(record.usage, outcome.usage)

        retry = outcome.status != "done" and task.attempt < self.plan.max_attempts
        if retry and self.stop_requests == 0:
            line = logs.fields(
                region=task.spec.region,
                attempt=task.attempt,
                status=outcome.status,
                error=repr(outcome.error),
            )
            logger.warning(f"region will retry  {line}")
            record.status = "retrying"
            self.queue.append(replace(task, attempt=task.attempt + 1))
        else:
            record.status = outcome.status
            record.companies = outcome.companies if outcome.status == "done" else None
            if outcome.status == "done":
                record.checkpoint_stat = _stat(locate(task.checkpoint_path))
            record.error_type = outcome.error_type
            record.error = outcome.error
            self._log_end(record)
        self._write_manifest()

    def _checked(self, task: RegionTask, outcome: RegionOutcome) -> RegionOutcome:
        """Hold the outcome against the checkpoint, which is the truth.

        A failed attempt whose region has a valid checkpoint anyway (another
        attempt on a cluster wrote it) is done; a done one whose checkpoint
        the driver cannot see (a worker on another machine wrote to its own
        disk) is not.
        """
        if outcome.status != "done":
            return _from_checkpoint(task) if self._has_checkpoint(task) else outcome

        location = locate(task.checkpoint_path)
        try:
            if _stat(location) is not None or location.exists():
                return outcome
        except OSError:
            return outcome  # storage unreachable from here just now: trust the worker
        return _lost(
            task,
            "StorageError",
            f"its worker wrote {location}, which this machine cannot read; give "
            "--storage a location that every worker and the driver share",
        )

    def _log_end(self, record: RegionRecord) -> None:
        counts = self._counts()
        line = logs.fields(
            region=record.region,
            status=record.status,
            companies=record.companies or 0,
            tokens=record.usage.get("total_tokens", 0),
            seconds=f"{record.seconds or 0:.1f}",
        )
        progress = (
            f"[{counts['finished']}/{len(self.tasks)} finished, "
            f"{self.running} running, {counts['failed']} failed]"
        )
        bound = logger.bind(region=record.region, status=record.status)
        if record.status == "done":
            bound.info(f"region finished  {line}  {progress}")
        else:
            bound.error(f"region failed  {line} error={record.error!r}  {progress}")

    def _counts(self) -> dict[str, int]:
        keys = {task.spec.region for task in self.tasks}
        statuses = [self.manifest.regions[key].status for key in keys]
        failed = sum(status in ("failed", "timeout", "crashed") for status in statuses)
        done = sum(status == "done" for status in statuses)
        return {"finished": done + failed, "failed": failed}

    def _pool_broke(self) -> None:
        """A worker died: keep what finished, find the culprit, rebuild the pool."""
        broken = list(self.in_flight.values())
        self.in_flight.clear()
        logger.warning(
            "a worker process died; rebuilding the pool  "
            + logs.fields(regions_in_flight=sum(len(item.tasks) for item in broken))
        )

        # When the driver itself killed a hung worker the culprit is known and
        # the others are innocent; otherwise each region in flight is a suspect.
        culprit_known = any(item.hung for item in broken)
        alone = len(broken) == 1 and len(broken[0].tasks) == 1
        for item in broken:
            for task in item.tasks:
                if self._has_checkpoint(task):
                    self._record(task, _from_checkpoint(task))
                elif item.hung and len(item.tasks) == 1:
                    self._record(
                        task,
                        _lost(
                            task,
                            "TimeoutError",
                            "stopped after ignoring its timeout",
                            status="timeout",
                        ),
                    )
                elif item.hung:
                    self.suspects.append(task)
                elif culprit_known:
                    self.queue.appendleft(task)
                elif item.isolated or alone:
                    self._record(
                        task,
                        _lost(
                            task,
                            "WorkerDied",
                            "its worker process exited abruptly",
                            status="crashed",
                        ),
                    )
                else:
                    self.suspects.append(task)

        self._replace_executor()

    def _replace_executor(self) -> None:
        if self.executor is not None:
            kill_workers(self.executor)
            self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self.factory(self.workers)

    def _check_hung(self) -> None:
        """Kill workers whose regions ignored their timeouts (a blocked loop)."""
        now = time.monotonic()
        newly_hung = False
        for item in self.in_flight.values():
            if not item.hung and now > item.deadline + self.hang_grace_seconds:
                names = ", ".join(task.spec.region for task in item.tasks)
                logger.warning(f"region(s) ignored their timeout; stopping: {names}")
                item.hung = newly_hung = True
        if not newly_hung or self.executor is None:
            return
        if kill_workers(self.executor) == 0:
            # Nothing to kill (not a process pool): give up on the hung futures.
            for future, item in list(self.in_flight.items()):
                if item.hung:
                    self.in_flight.pop(future)
                    future.cancel()  # a cluster releases the task's result
                    for task in item.tasks:
                        self._record(
                            task,
                            _lost(
                                task,
                                "TimeoutError",
                                "no answer after its timeout",
                                status="timeout",
                            ),
                        )

    def _has_checkpoint(self, task: RegionTask) -> bool:
        try:
            read_checkpoint(locate(task.checkpoint_path), task.cache_key)
        except (OSError, CheckpointError):
            return False
        return True

    def _must_stop_now(self) -> bool:
        if self.stop_requests == 0:
            return False
        if self.stop_requests > 1:
            return True
        if self.stop_deadline is None:
            self.stop_deadline = time.monotonic() + self.grace_seconds
        return time.monotonic() >= self.stop_deadline

    def _abandon_in_flight(self) -> None:
        """Stop running regions now; their checkpoints, if any, still count."""
        if self.executor is not None:
            kill_workers(self.executor)
        for item in self.in_flight.values():
            for task in item.tasks:
                if self._has_checkpoint(task):
                    self._record(task, _from_checkpoint(task))
                else:
                    self.manifest.regions[task.spec.region].status = "interrupted"
        self.in_flight.clear()

    def _shutdown(self) -> None:
        for task in self.queue:
            self.manifest.regions[task.spec.region].status = "cancelled"
        for task in self.suspects:
            self.manifest.regions[task.spec.region].status = "cancelled"
        self.queue.clear()
        self.suspects.clear()
        if self.executor is not None:
            self.executor.shutdown(wait=self.stop_requests == 0, cancel_futures=True)

    def _write_manifest(self, force: bool = False) -> None:
        # The checkpoints are the truth and run.json only reports them, so on
        # large runs it is rewritten at most once a second, and at the end.
        now = time.monotonic()
        if not force and now - self.manifest_written < MANIFEST_INTERVAL_SECONDS:
            return
        self.manifest_written = now
        try:
            self.manifest.write(self.plan.storage)
        except OSError as exc:
            raise StorageError(
                f"{self.plan.storage}: cannot write run.json ({exc.strerror or exc}); "
                "checkpoints already written are kept"
            ) from None

    def _install_sigint(self) -> object:
        if threading.current_thread() is not threading.main_thread():
            return None
        return signal.signal(signal.SIGINT, self._on_sigint)

    def _restore_sigint(self, previous: object) -> None:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)  # type: ignore[arg-type]

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requests += 1
        if self.stop_requests == 1:
            logger.warning(
                f"stopping: no new regions; running ones get {self.grace_seconds:g} s "
                "to finish (Ctrl-C again to stop at once)"
            )
        else:
            logger.warning("stopping now")


def _lost(
    task: RegionTask, error_type: str, message: str, status: str = "failed"
) -> RegionOutcome:
    return RegionOutcome(
        region=task.spec.region,
        status=status,
        attempt=task.attempt,
        seconds=0.0,
        error_type=error_type,
        error=message,
    )


def _from_checkpoint(task: RegionTask) -> RegionOutcome:
    checkpoint = read_checkpoint(locate(task.checkpoint_path), task.cache_key)
    return RegionOutcome(
        region=task.spec.region,
        status="done",
        attempt=task.attempt,
        seconds=checkpoint.seconds,
        companies=len(checkpoint.companies),
        usage=checkpoint.usage.model_dump(),
    )


def _move_aside(run_dir: Path) -> Path | None:
    """Keep an old run folder under a new name instead of deleting it."""
    if not run_dir.exists():
        return None
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = run_dir.with_name(f"{run_dir.name}.{stamp}")
    counter = 1
    while target.exists():
        target = run_dir.with_name(f"{run_dir.name}.{stamp}.{counter}")
        counter += 1
    with RunLock(run_dir):
        pass  # refuses if a live run holds the folder
    os.replace(run_dir, target)
    logger.info(f"--fresh: kept the previous run folder as {target}")
    return target


def _stat(location: Location) -> list[int | str] | None:
    # The stat only spares a later resume from reading the checkpoint again;
    # when remote storage does not answer, that resume reads it instead.
    try:
        return file_stat(location)
    except OSError:
        return None


def _absolute(location: Location) -> str:
    # Workers may run in another folder (a Dask worker certainly does), so a
    # task names its checkpoint by an absolute path or a URL.
    return str(location.absolute() if isinstance(location, Path) else location)


def _make_folder(run_dir: Path, storage: Location) -> None:
    # With other storage the local run folder keeps only the lock, the log
    # and the rate-limit bucket; object stores need no folders made.
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"{run_dir}: cannot create the run folder ({exc.strerror}); "
            "choose another place with --run-dir"
        ) from None
    if isinstance(storage, RemotePath):
        return
    try:
        (storage / "checkpoints").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"{storage}: cannot create the checkpoints folder ({exc.strerror}); "
            "choose another place with --storage or --run-dir"
        ) from None
