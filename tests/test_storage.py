"""Checkpoints and run.json on storage named by a URL, written once, merged from there.

Runs here use a thread pool so that ``memory://`` storage, which lives in one
process, is shared by the driver and its workers; real processes are covered
by the pool and cluster tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pytest
from click.testing import CliRunner

from leadgen import worker
from leadgen.checkpoint import (
    read_checkpoint,
    set_aside,
    write_checkpoint,
)
from leadgen.cli import main
from leadgen.config import load_config
from leadgen.plan import PlannedRegion, plan_run
from leadgen.runner import RunOptions, RunSummary, run_batch
from leadgen.storage import RemotePath, locate
from leadgen.tasks import RegionTask
from leadgen.warehouse import merge_run

from .conftest import sample_checkpoint, small_config


def _threads(workers: int) -> Executor:
    return ThreadPoolExecutor(max_workers=workers)


def _run(path: Path, run_dir: Path, **options: Any) -> RunSummary:
    options.setdefault("executor_factory", _threads)
    return run_batch(load_config(path), RunOptions(run_dir=run_dir, **options))


def _companies(run_dir: Path | str, db: Path) -> list[tuple[Any, ...]]:
    merge_run(run_dir, db)
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT * FROM companies ORDER BY company_id").fetchall()


@pytest.fixture
def memory_url() -> Iterator[str]:
    """A fresh place on fsspec's in-memory storage, emptied afterwards."""
    url = f"memory://leadgen-tests/{uuid.uuid4().hex}"
    yield url
    fs = fsspec.filesystem("memory")
    if fs.exists(url):
        fs.rm(url, recursive=True)


@pytest.fixture
def north(write_config: Callable[..., Path], tmp_path: Path) -> PlannedRegion:
    """The planned North Side region of the small config."""
    plan = plan_run(load_config(write_config(small_config())), tmp_path / "plan")
    return next(item for item in plan.todo if item.spec.region == "North Side")


@pytest.mark.parametrize(
    ("where", "kind"),
    [
        pytest.param("data/runs/denver", Path, id="relative-path"),
        pytest.param("/srv/runs/denver", Path, id="absolute-path"),
        pytest.param("file:///srv/runs/denver", Path, id="file-url"),
        pytest.param("memory://runs/denver", RemotePath, id="memory-url"),
    ],
)
def test_local_paths_and_file_urls_stay_local(where: str, kind: type) -> None:
    located = locate(where)

    assert isinstance(located, kind)
    assert str(located).endswith("runs/denver")


def test_a_remote_checkpoint_is_written_once(memory_url: str) -> None:
    path = RemotePath(memory_url) / "checkpoints" / "downtown.json"
    write_checkpoint(path, sample_checkpoint())
    first = path.read_bytes()

    with pytest.raises(FileExistsError):
        write_checkpoint(path, sample_checkpoint("other"))

    assert path.read_bytes() == first
    assert read_checkpoint(path, "k1") == sample_checkpoint()


def test_set_aside_on_remote_storage_keeps_the_file(memory_url: str) -> None:
    path = RemotePath(memory_url) / "checkpoints" / "downtown.json"
    path.write_bytes(b"{damaged")

    kept = set_aside(path, "damaged")

    assert not path.exists()
    assert kept.read_bytes() == b"{damaged"
    assert str(kept.parent).endswith("checkpoints/set-aside")


@pytest.mark.parametrize("storage", ["local", "memory"])
def test_an_attempt_reports_a_valid_checkpoint_instead_of_running_again(
    north: PlannedRegion, tmp_path: Path, memory_url: str, storage: str
) -> None:
    """What happens when a cluster reruns a region whose worker died after saving."""
    root = tmp_path / "run" if storage == "local" else RemotePath(memory_url)
    path = root / "checkpoints" / "north-side.json"
    first = _task(north, str(path))
    assert worker.execute(first).status == "done"
    saved = path.read_bytes()

    # Were the region run again, it would time out long before its answer.
    again = _task(north, str(path), simulate_latency=30.0, timeout_seconds=0.5)
    outcome = worker.execute(again)

    assert outcome.status == "done"
    assert outcome.companies == len(read_checkpoint(path).companies)
    assert path.read_bytes() == saved


def test_a_damaged_remote_checkpoint_is_set_aside_and_written_anew(
    north: PlannedRegion, memory_url: str
) -> None:
    path = RemotePath(memory_url) / "checkpoints" / "north-side.json"
    path.write_bytes(b'{"format": 1, "cache_')

    outcome = worker.execute(_task(north, str(path)))

    assert outcome.status == "done"
    assert read_checkpoint(path, north.cache_key).region == "North Side"
    aside = (RemotePath(memory_url) / "checkpoints" / "set-aside").listing()
    assert [name.split(".")[0] for name in aside] == ["north-side"]


@pytest.mark.parametrize("scheme", ["memory", "file"])
def test_a_run_on_storage_merges_like_a_run_in_its_folder(
    write_config: Callable[..., Path], tmp_path: Path, memory_url: str, scheme: str
) -> None:
    path = write_config(small_config())
    reference = _run(path, tmp_path / "reference")
    url = memory_url if scheme == "memory" else f"file://{tmp_path}/shared/small"

    summary = _run(path, tmp_path / "local", storage=url)

    assert [r.status for r in summary.records] == ["done"] * 3
    assert _companies(url, tmp_path / "a.duckdb") == _companies(
        reference.run_dir, tmp_path / "b.duckdb"
    )
    stored = locate(url)
    assert (stored / "run.json").exists()
    assert (stored / "checkpoints" / "north-side.json").exists()
    assert not (tmp_path / "local" / "checkpoints").exists()
    assert (tmp_path / "local" / "leadgen.log").exists()


def test_resume_from_remote_storage_lists_instead_of_reading(
    write_config: Callable[..., Path],
    tmp_path: Path,
    memory_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from leadgen import plan

    path = write_config(small_config())
    _run(path, tmp_path / "local", storage=memory_url)

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged checkpoint was read again")

    monkeypatch.setattr(plan, "read_checkpoint", no_parsing)
    summary = _run(path, tmp_path / "local", storage=memory_url)

    assert summary.skipped == 3
    assert {r.status for r in summary.records} == {"skipped"}


def test_merge_command_reads_a_storage_url(
    write_config: Callable[..., Path], tmp_path: Path, memory_url: str
) -> None:
    _run(write_config(small_config()), tmp_path / "local", storage=memory_url)
    db = tmp_path / "l.duckdb"

    result = CliRunner().invoke(main, ["merge", memory_url, "--db", str(db)])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Merged run 'small': 3 region(s)")


def test_run_command_keeps_checkpoints_on_storage_and_merges_from_there(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_config(small_config())
    url = f"file://{tmp_path}/shared/small"
    db = tmp_path / "l.duckdb"

    result = CliRunner().invoke(
        main,
        ["run", str(path), "--run-dir", str(tmp_path / "r"), "--storage", url]
        + ["--db", str(db)],
    )

    assert result.exit_code == 0, result.output
    assert f"Checkpoints and run.json: {tmp_path}/shared/small" in result.stdout
    assert len(list((tmp_path / "shared" / "small" / "checkpoints").glob("*"))) == 3
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT regions_done, run_dir FROM runs").fetchone()
    assert row == (3, f"{tmp_path}/shared/small")


def test_run_dir_may_be_a_storage_url(
    write_config: Callable[..., Path],
    tmp_path: Path,
    memory_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from leadgen import runner

    # memory:// lives in one process: run the regions on threads of this one.
    monkeypatch.setattr(runner, "process_pool_factory", lambda *args: _threads)
    path = write_config(small_config())

    result = CliRunner().invoke(
        main,
        ["run", str(path), "--run-dir", memory_url]
        + ["--data-dir", str(tmp_path / "data"), "--no-merge"],
    )

    assert result.exit_code == 0, result.output
    assert (RemotePath(memory_url) / "run.json").exists()
    assert (tmp_path / "data" / "runs" / "small" / "leadgen.log").exists()


def test_a_checkpoint_the_driver_cannot_see_is_not_counted(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = small_config(run={"workers": 1, "retries": 0, "min_success_share": 0})

    summary = _run(
        write_config(config), tmp_path / "run", executor_factory=_ElsewhereExecutor
    )

    assert {r.status for r in summary.records} == {"failed"}
    assert "which this machine cannot read" in (summary.records[0].error or "")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(
            ["--storage", "nosuch://bucket/run"],
            "Protocol not known: nosuch",
            id="unknown-scheme",
        ),
        pytest.param(
            ["--storage", "memory://x/run", "--fresh"],
            "give a new --storage URL to start over",
            id="fresh-on-remote",
        ),
        pytest.param(
            ["--run-dir", "memory://x/run", "--storage", "memory://y/run"],
            "give the URL once",
            id="two-urls",
        ),
    ],
)
def test_storage_usage_errors_are_one_line(
    write_config: Callable[..., Path], tmp_path: Path, extra: list[str], message: str
) -> None:
    path = write_config(small_config())

    result = CliRunner().invoke(
        main, ["run", str(path), "--run-dir", str(tmp_path / "r"), *extra]
    )

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


class _ElsewhereExecutor(ThreadPoolExecutor):
    """Runs regions, then removes their checkpoints, as if another machine's
    worker had written them to its own disk."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        def elsewhere() -> Any:
            outcomes = fn(*args, **kwargs)
            for task in args[0]:
                Path(task.checkpoint_path).unlink()
            return outcomes

        return super().submit(elsewhere)


def _task(planned: PlannedRegion, location: str, **timing: float) -> RegionTask:
    return RegionTask(
        spec=planned.spec,
        cache_key=planned.cache_key,
        checkpoint_path=location,
        **timing,  # type: ignore[arg-type]
    )
