"""Run batches of regions on a Dask cluster instead of the local process pool.

``connect`` opens a client to a running scheduler for one run; its executors
send each batch of regions to the cluster through
``Client.get_executor(pure=False)`` (with ``pure=True`` identical calls would
share one result). Dask is the optional extra ``dask`` and is imported only
when a run asks for it, so local runs never pay for it.

How a cluster differs from the process pool, and what leadgen does about it:

- Dask workers do not run the pool's initializer, so the first batch in each
  worker process sets up leadgen's logging there (to that worker's stderr).
- The scheduler reruns a task whose worker died, elsewhere; an attempt that
  finds its region's valid checkpoint reports it instead of running again,
  and a region that kills worker after worker ends as ``WorkerLostError``.
- Nothing here can be killed from the driver: a region that ignores its
  timeout keeps its worker thread until it returns.
- Workers start fresh processes that import the agents SDK themselves; the
  forkserver preload of the process pool does not apply.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, InvalidStateError
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from loguru import logger

from leadgen import logs
from leadgen.errors import ExecutorError, WorkerLostError
from leadgen.pool import ExecutorFactory

P = ParamSpec("P")
T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS = 10.0
INSTALL_HINT = "install it with: pip install 'leadgen[dask]'"

_logging_ready = False


@dataclass(frozen=True)
class WorkerLogging:
    """How Dask workers log: leadgen's format on their stderr, at this level.

    Args:
        driver_pid: The driver's process id; a worker in that same process
            (an in-process cluster) keeps the driver's logging untouched.
        verbose: Log detail at DEBUG.
        quiet: Log warnings and errors only.
    """

    driver_pid: int
    verbose: bool = False
    quiet: bool = False


def run_on_worker(
    log_setup: WorkerLogging, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Call ``fn`` in a Dask worker, setting up logging the first time."""
    global _logging_ready
    if not _logging_ready and os.getpid() != log_setup.driver_pid:
        logs.configure(verbose=log_setup.verbose, quiet=log_setup.quiet)
        _logging_ready = True
    return fn(*args, **kwargs)


class ClusterExecutor(Executor):
    """A Dask client's executor with the ``Executor`` interface the driver uses.

    It adds what Dask's own executor lacks: ``shutdown`` accepts
    ``cancel_futures``, and a task that killed too many workers fails with
    ``WorkerLostError`` instead of a Dask exception.
    """

    def __init__(self, client: Any, log_setup: WorkerLogging) -> None:
        from distributed import KilledWorker

        self._inner = client.get_executor(pure=False)
        self._log_setup = log_setup
        self._killed_worker: type[BaseException] = KilledWorker

    def submit(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[T]:
        try:
            inner: Future[T] = self._inner.submit(
                run_on_worker, self._log_setup, fn, *args, **kwargs
            )
        except Exception as exc:  # a client that lost its scheduler for good
            failed: Future[T] = Future()
            failed.set_exception(exc)
            return failed
        return self._translated(inner)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # Dask's executor, when not waiting, cancels every outstanding task,
        # running ones included. The driver cancels only once nothing it still
        # waits for is outstanding (given-up hung regions) or when it stops at
        # once, so that is the wanted effect.
        self._inner.shutdown(wait=wait and not cancel_futures)

    def _translated(self, inner: Future[T]) -> Future[T]:
        outer: Future[T] = Future()

        def settle(done: Future[T]) -> None:
            if done.cancelled():
                _cancel(outer)
                return
            error = done.exception()
            try:
                if error is None:
                    outer.set_result(done.result())
                elif isinstance(error, self._killed_worker):
                    first = str(error).split(". ")[0]
                    outer.set_exception(
                        WorkerLostError(f"its worker died repeatedly ({first})")
                    )
                else:
                    outer.set_exception(error)
            except InvalidStateError:
                pass  # the driver cancelled it meanwhile

        def forward_cancel(future: Future[T]) -> None:
            if future.cancelled():
                inner.cancel()

        inner.add_done_callback(settle)
        outer.add_done_callback(forward_cancel)
        return outer


def _cancel(future: Future[Any]) -> None:
    # A cancelled future wakes `wait()` only once it is also notified.
    future.cancel()
    try:
        future.set_running_or_notify_cancel()
    except RuntimeError:
        pass  # already notified


def executor_factory(
    client: Any, verbose: bool = False, quiet: bool = False
) -> ExecutorFactory:
    """Executors on an open Dask client, for callers that manage the client."""
    log_setup = WorkerLogging(os.getpid(), verbose, quiet)
    return lambda workers: ClusterExecutor(client, log_setup)


@dataclass(frozen=True)
class Cluster:
    """An open connection to a Dask scheduler for one run."""

    factory: ExecutorFactory
    threads: int


@contextmanager
def connect(
    scheduler: str | None, verbose: bool = False, quiet: bool = False
) -> Iterator[Cluster]:
    """Connect to the Dask scheduler at ``scheduler`` for the length of a run.

    Raises:
        ExecutorError: when no address is given, the extra is not installed
            or the scheduler does not answer within the connect timeout.
    """
    if not scheduler:
        raise ExecutorError(
            "--executor dask needs the scheduler's address: give --scheduler "
            "tcp://HOST:8786 or run.scheduler in the config"
        )
    try:
        import distributed
    except ImportError:
        raise ExecutorError(
            f"--executor dask needs the dask extra, which is missing; {INSTALL_HINT}"
        ) from None

    try:
        # Client's constructor is not annotated in distributed.
        client: Any = distributed.Client(  # type: ignore[no-untyped-call]
            scheduler, timeout=CONNECT_TIMEOUT_SECONDS, set_as_default=False
        )
    except Exception as exc:  # refused, timed out, bad address: all one answer
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExecutorError(
            f"--scheduler {scheduler}: cannot reach the Dask scheduler ({reason}); "
            "check the address and that the scheduler is running"
        ) from None

    try:
        threads = sum(client.nthreads().values())
        if threads == 0:
            logger.warning(
                f"the Dask scheduler at {scheduler} has no workers yet; regions "
                "wait until workers join"
            )
        yield Cluster(executor_factory(client, verbose, quiet), threads)
    finally:
        client.close()
