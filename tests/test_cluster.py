"""Batches on a Dask cluster: the same answers as the process pool, even when a
worker dies mid-batch, and one-line errors when the cluster cannot be used.

One ``LocalCluster`` on loopback serves the whole module; starting one costs a
second or two, and its workers pay the agents SDK import on their first batch.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from leadgen.cli import main
from leadgen.config import load_config
from leadgen.runner import RunOptions, RunSummary, run_batch
from leadgen.warehouse import merge_run

from .conftest import small_config

Rows = list[tuple[Any, ...]]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two single-threaded worker processes and a scheduler, all on loopback."""
    import distributed

    # The scheduler's web server starts even with dashboard_address=None, on
    # port 8787, and warns when that port is taken (by another cluster on this
    # machine, say); any free port on loopback avoids both.
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address="127.0.0.1:0",
        host="127.0.0.1",
    ) as local:
        yield local


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "small.yaml"
    path.write_text(yaml.safe_dump(small_config(), sort_keys=False))
    return path


@pytest.fixture(scope="module")
def pool_results(
    config_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Rows, Rows]:
    """Companies and candidates of the batch run by the local process pool."""
    folder = tmp_path_factory.mktemp("pool")
    summary = _run(config_path, folder / "run")
    assert summary.exit_code == 0
    return _results(summary, folder / "pool.duckdb")


def test_a_batch_on_the_cluster_matches_the_process_pool(
    cluster: Any, config_path: Path, tmp_path: Path, pool_results: tuple[Rows, Rows]
) -> None:
    summary = _run(
        config_path,
        tmp_path / "run",
        executor="dask",
        scheduler=cluster.scheduler_address,
    )

    assert {r.status for r in summary.records} == {"done"}
    assert _results(summary, tmp_path / "dask.duckdb") == pool_results


def test_a_worker_killed_mid_batch_loses_nothing_and_adds_nothing(
    cluster: Any, config_path: Path, tmp_path: Path, pool_results: tuple[Rows, Rows]
) -> None:
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        killed: list[str] = []
        checkpoints = tmp_path / "run" / "checkpoints"
        killer = threading.Thread(
            target=_kill_a_busy_worker, args=(client, checkpoints, killed)
        )
        killer.start()
        try:
            # Each model turn waits, so when the first region has finished the
            # others are still running; the scheduler reruns the lost one.
            summary = _run(
                config_path,
                tmp_path / "run",
                executor="dask",
                scheduler=cluster.scheduler_address,
                simulate_latency=0.5,
            )
        finally:
            killer.join()

    assert killed, "no worker was busy to be killed"
    assert {r.status for r in summary.records} == {"done"}
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == [
        "downtown.json",
        "north-side.json",
        "south-side.json",
    ]
    assert _results(summary, tmp_path / "dask.duckdb") == pool_results


@pytest.mark.parametrize(
    ("extra", "setup", "message"),
    [
        pytest.param(
            ["--executor", "dask"],
            None,
            "--executor dask needs the scheduler's address",
            id="no-scheduler",
        ),
        pytest.param(
            ["--scheduler", "tcp://127.0.0.1:8786"],
            None,
            "--scheduler is for --executor dask",
            id="scheduler-without-dask",
        ),
        pytest.param(
            ["--executor", "dask"],
            "nobody-listens",
            "cannot reach the Dask scheduler",
            id="unreachable",
        ),
        pytest.param(
            ["--executor", "dask", "--scheduler", "tcp://127.0.0.1:8786"],
            "no-extra",
            "pip install 'leadgen[dask]'",
            id="extra-missing",
        ),
    ],
)
def test_a_cluster_that_cannot_be_used_is_a_one_line_error(
    write_config: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    setup: str | None,
    message: str,
) -> None:
    from leadgen import cluster

    if setup == "nobody-listens":
        monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_SECONDS", 0.5)
        extra = [*extra, "--scheduler", f"tcp://127.0.0.1:{_closed_port()}"]
    if setup == "no-extra":
        monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    path = write_config(small_config())

    result = CliRunner().invoke(
        main, ["run", str(path), "--run-dir", str(tmp_path / "r"), *extra]
    )

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_batch_that_kills_its_workers_fails_as_worker_lost() -> None:
    import distributed

    from leadgen.cluster import ClusterExecutor, WorkerLogging
    from leadgen.errors import WorkerLostError

    def killer() -> None:
        worker = SimpleNamespace(address="tcp://127.0.0.1:1")
        raise distributed.KilledWorker("run_on_worker-1", worker, 3)

    executor = ClusterExecutor(_ThreadClient(), WorkerLogging(os.getpid()))
    try:
        with pytest.raises(WorkerLostError, match="its worker died repeatedly"):
            executor.submit(killer).result(timeout=10)
        assert executor.submit(sum, [1, 2]).result(timeout=10) == 3
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def test_config_scheduler_needs_the_dask_executor(
    write_config: Callable[..., Path],
) -> None:
    from leadgen.errors import ConfigError

    config = small_config(run={"executor": "process", "scheduler": "tcp://h:8786"})

    with pytest.raises(ConfigError, match="run: 'scheduler' is used only with"):
        load_config(write_config(config))


def _run(path: Path, run_dir: Path, **options: Any) -> RunSummary:
    return run_batch(load_config(path), RunOptions(run_dir=run_dir, **options))


def _results(summary: RunSummary, db: Path) -> tuple[Rows, Rows]:
    """The merged companies, and the candidates without their run-only columns."""
    merge_run(summary.storage or summary.run_dir, db)
    with duckdb.connect(str(db), read_only=True) as con:
        companies = con.execute("SELECT * FROM companies ORDER BY company_id")
        company_rows = companies.fetchall()
        candidates = con.execute(
            "SELECT candidate_id, region, name, company_id, drop_reason "
            "FROM candidates ORDER BY candidate_id"
        )
        return company_rows, candidates.fetchall()


def _kill_a_busy_worker(client: Any, checkpoints: Path, killed: list[str]) -> None:
    """Once a region has finished, kill a worker that is running another."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        busy = [
            worker
            for worker, keys in client.processing().items()
            if any(str(key).startswith("run_on_worker") for key in keys)
        ]
        if busy and any(checkpoints.glob("*.json")):
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed.append(busy[0])
            return
        time.sleep(0.05)  # polling the scheduler: there is no event to await


class _ThreadClient:
    """Stands in for a Dask client whose executor runs tasks on local threads."""

    def get_executor(self, pure: bool) -> ThreadPoolExecutor:
        assert pure is False, "identical batches must not share one result"
        return ThreadPoolExecutor(max_workers=1)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
