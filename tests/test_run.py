"""Batch runs through the real process pool and the real SDK Runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from leadgen.checkpoint import read_checkpoint
from leadgen.cli import run_command
from leadgen.config import load_config
from leadgen.runner import RunOptions, RunSummary, run_batch

from .conftest import small_config
from .faults import fault_pool


def _run(path: Path, run_dir: Path, **options: Any) -> RunSummary:
    return run_batch(load_config(path), RunOptions(run_dir=run_dir, **options))


def _statuses(summary: RunSummary) -> dict[str, str]:
    return {record.region: record.status for record in summary.records}


def test_full_run_writes_tagged_checkpoints(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"

    summary = _run(write_config(small_config()), run_dir)

    assert summary.exit_code == 0
    assert set(_statuses(summary).values()) == {"done"}
    files = sorted(p.name for p in (run_dir / "checkpoints").glob("*.json"))
    assert files == ["downtown.json", "north-side.json", "south-side.json"]
    north = read_checkpoint(run_dir / "checkpoints" / "north-side.json")
    assert north.companies, "the offline agent found nothing"
    assert {c.discovery_source for c in north.companies} == {
        "agent:multi_region:North_Side"
    }
    assert [c.rank for c in north.companies] == list(range(1, len(north.companies) + 1))
    assert north.usage.requests == 2  # one tool call turn, one answer turn
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "finished"
    assert {r["status"] for r in manifest["regions"]} == {"done"}


def test_regions_run_at_the_same_time(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = small_config(run={"workers": 3})
    run_dir = tmp_path / "run"

    _run(write_config(config), run_dir, simulate_latency=0.4)

    spans = [
        (c.started_at, c.finished_at)
        for c in map(read_checkpoint, (run_dir / "checkpoints").glob("*.json"))
    ]
    latest_start = max(start for start, _ in spans)
    earliest_end = min(end for _, end in spans)
    assert latest_start < earliest_end, "regions ran one after another"


def test_second_run_skips_everything(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    path, run_dir = write_config(small_config()), tmp_path / "run"
    _run(path, run_dir)
    before = {p: p.stat().st_mtime_ns for p in (run_dir / "checkpoints").glob("*.json")}

    summary = _run(path, run_dir)

    assert summary.skipped == 3
    assert set(_statuses(summary).values()) == {"skipped"}
    after = {p: p.stat().st_mtime_ns for p in (run_dir / "checkpoints").glob("*.json")}
    assert after == before


def test_changed_input_reruns_only_that_region(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = small_config()
    path, run_dir = write_config(config), tmp_path / "run"
    _run(path, run_dir)

    config["geography"]["regions"][1]["zip_codes"].append("80212")
    config["run"] = {"workers": 1, "retries": 0}  # timing knobs change nothing
    summary = _run(write_config(config), run_dir)

    assert _statuses(summary) == {
        "Downtown": "skipped",
        "North Side": "done",
        "South Side": "skipped",
    }
    assert list((run_dir / "checkpoints" / "set-aside").glob("north-side.*stale.json"))


def test_damaged_checkpoint_is_set_aside_and_rerun(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    path, run_dir = write_config(small_config()), tmp_path / "run"
    _run(path, run_dir)
    damaged = run_dir / "checkpoints" / "downtown.json"
    damaged.write_text(damaged.read_text()[:100])

    summary = _run(path, run_dir)

    assert _statuses(summary)["Downtown"] == "done"
    assert read_checkpoint(damaged).region == "Downtown"
    assert list((run_dir / "checkpoints" / "set-aside").glob("downtown.*damaged.json"))


def test_only_runs_the_named_regions(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"

    summary = _run(write_config(small_config()), run_dir, only=("north side",))

    assert _statuses(summary) == {"North Side": "done"}
    assert [p.name for p in (run_dir / "checkpoints").glob("*.json")] == [
        "north-side.json"
    ]


def test_only_with_unknown_region_is_a_usage_error(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_config(small_config())

    result = CliRunner().invoke(
        run_command, [str(path), "--run-dir", str(tmp_path / "r"), "--only", "Westside"]
    )

    assert result.exit_code == 2
    assert "--only 'Westside'" in result.stderr
    assert "'North Side'" in result.stderr


def test_fresh_keeps_the_old_folder(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    path, run_dir = write_config(small_config()), tmp_path / "run"
    _run(path, run_dir)

    summary = _run(path, run_dir, fresh=True)

    assert summary.skipped == 0
    assert summary.moved_aside is not None
    assert len(list(summary.moved_aside.glob("checkpoints/*.json"))) == 3
    assert len(list(run_dir.glob("checkpoints/*.json"))) == 3


def test_failing_region_does_not_stop_the_others(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = small_config(run={"workers": 2, "retries": 1, "min_success_share": 0.5})

    summary = _run(
        write_config(config),
        tmp_path / "run",
        executor_factory=fault_pool({"South Side": "raise"}),
    )

    statuses = _statuses(summary)
    assert statuses == {
        "Downtown": "done",
        "North Side": "done",
        "South Side": "failed",
    }
    south = next(r for r in summary.records if r.region == "South Side")
    assert south.attempts == 2
    assert south.error_type == "RuntimeError"
    assert "injected failure" in (south.error or "")
    assert summary.exit_code == 0


def test_too_few_successes_exit_3_and_lists_failures(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = small_config(run={"workers": 2, "retries": 0, "min_success_share": 1.0})
    summary = _run(
        write_config(config),
        tmp_path / "run",
        executor_factory=fault_pool({"Downtown": "raise"}),
    )

    assert summary.exit_code == 3
    assert summary.succeeded == 2


def test_worker_that_dies_is_isolated_and_others_finish(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = small_config(run={"workers": 3, "retries": 1, "min_success_share": 0.5})

    summary = _run(
        write_config(config),
        tmp_path / "run",
        executor_factory=fault_pool({"North Side": "exit"}),
    )

    statuses = _statuses(summary)
    assert statuses["Downtown"] == statuses["South Side"] == "done"
    assert statuses["North Side"] == "crashed"
    north = next(r for r in summary.records if r.region == "North Side")
    assert north.attempts == 2
    assert "exited abruptly" in (north.error or "")


def test_cli_prints_summary_table(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_config(small_config())

    result = CliRunner().invoke(
        run_command, [str(path), "--data-dir", str(tmp_path / "data"), "--no-merge"]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split() == [
        "Region",
        "Status",
        "Companies",
        "Attempts",
        "Seconds",
        "Tokens",
    ]
    assert "3 region(s): 3 succeeded" in result.stdout
    assert (tmp_path / "data" / "runs" / "small" / "run.json").exists()
    assert not (tmp_path / "data" / "leadgen.duckdb").exists()


@pytest.mark.parametrize("workers", [1, 3], ids=["one-worker", "three-workers"])
def test_results_do_not_depend_on_worker_count(
    write_config: Callable[..., Path], tmp_path: Path, workers: int
) -> None:
    path = write_config(small_config())
    run_dir = tmp_path / f"run{workers}"

    _run(path, run_dir, workers=workers)

    north = read_checkpoint(run_dir / "checkpoints" / "north-side.json")
    reference = _reference_names(path, tmp_path)
    assert [c.name for c in north.companies] == reference


def _reference_names(path: Path, tmp_path: Path) -> list[str]:
    run_dir = tmp_path / "reference"
    if not run_dir.exists():
        _run(path, run_dir, only=("North Side",))
    checkpoint = read_checkpoint(run_dir / "checkpoints" / "north-side.json")
    return [c.name for c in checkpoint.companies]


def test_slow_region_times_out_without_holding_up_the_batch(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = small_config(
        agent={"model": "offline", "timeout_seconds": 1.5},
        run={"workers": 2, "retries": 0, "min_success_share": 0.5},
    )

    summary = _run(
        write_config(config),
        tmp_path / "run",
        executor_factory=fault_pool({"Downtown": "slow"}),
    )

    assert _statuses(summary) == {
        "Downtown": "timeout",
        "North Side": "done",
        "South Side": "done",
    }
    downtown = summary.records[0]
    assert "no answer within 1.5 s" in (downtown.error or "")


def test_region_that_ignores_its_timeout_is_killed(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = small_config(
        agent={"model": "offline", "timeout_seconds": 1},
        run={"workers": 2, "retries": 0, "min_success_share": 0.5},
    )

    summary = _run(
        write_config(config),
        tmp_path / "run",
        executor_factory=fault_pool({"North Side": "hang"}),
        hang_grace_seconds=1.0,
    )

    assert _statuses(summary) == {
        "Downtown": "done",
        "North Side": "timeout",
        "South Side": "done",
    }
    north = summary.records[1]
    assert north.attempts == 1
    assert "ignoring its timeout" in (north.error or "")


def test_full_disk_fails_the_region_with_a_clear_reason(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = small_config(run={"workers": 2, "retries": 0, "min_success_share": 0.5})
    run_dir = tmp_path / "run"

    summary = _run(
        write_config(config),
        run_dir,
        executor_factory=fault_pool({"South Side": "nospace"}),
    )

    south = summary.records[2]
    assert south.status == "failed"
    assert south.error_type == "StorageError"
    assert "cannot write the checkpoint (No space left on device)" in (
        south.error or ""
    )
    assert sorted(p.name for p in run_dir.glob("checkpoints/*.json")) == [
        "downtown.json",
        "north-side.json",
    ]


def test_unwritable_manifest_stops_with_storage_error_and_keeps_checkpoints(
    write_config: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from leadgen import manifest
    from leadgen.errors import StorageError

    path, run_dir = write_config(small_config()), tmp_path / "run"
    _run(path, run_dir, only=("Downtown",))
    before = (run_dir / "checkpoints" / "downtown.json").read_bytes()
    original = manifest.atomic_write_text
    calls = {"n": 0}

    def fails_after_first(target: Path, text: str) -> None:
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError(errno.EROFS, "Read-only file system")
        original(target, text)

    monkeypatch.setattr(manifest, "atomic_write_text", fails_after_first)

    with pytest.raises(StorageError, match="cannot write run.json"):
        _run(path, run_dir)

    assert (run_dir / "checkpoints" / "downtown.json").read_bytes() == before


def test_run_folder_that_cannot_be_created(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    path = write_config(small_config())

    result = CliRunner().invoke(
        run_command, [str(path), "--run-dir", str(blocker / "r")]
    )

    assert result.exit_code == 5
    assert result.stderr.startswith(
        f"Error: {blocker / 'r'}: cannot create the run folder"
    )


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda text: "", id="empty"),
        pytest.param(lambda text: text[: len(text) // 2], id="truncated"),
        pytest.param(lambda text: "not json at all", id="not-json"),
        pytest.param(lambda text: '{"format": 1, "region": "x"}', id="wrong-schema"),
        pytest.param(
            lambda text: text.replace('"cache_key": "', '"cache_key": "0'),
            id="wrong-key",
        ),
    ],
)
def test_damaged_checkpoints_are_detected_and_rerun(
    write_config: Callable[..., Path],
    tmp_path: Path,
    damage: Callable[[str], str],
) -> None:
    path, run_dir = write_config(small_config()), tmp_path / "run"
    _run(path, run_dir, only=("South Side",))
    checkpoint = run_dir / "checkpoints" / "south-side.json"
    checkpoint.write_text(damage(checkpoint.read_text()))

    summary = _run(path, run_dir, only=("South Side",))

    assert _statuses(summary) == {"South Side": "done"}
    assert read_checkpoint(checkpoint).region == "South Side"
    assert len(list((run_dir / "checkpoints" / "set-aside").iterdir())) == 1


def test_resume_trusts_unchanged_checkpoints_without_parsing(
    write_config: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadgen import plan

    path, run_dir = write_config(small_config()), tmp_path / "run"
    _run(path, run_dir)

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged checkpoint was parsed again")

    monkeypatch.setattr(plan, "read_checkpoint", no_parsing)
    summary = _run(path, run_dir)

    assert summary.skipped == 3
    assert {r.companies for r in summary.records} != {None}


def test_one_worker_runs_several_regions_at_once(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = small_config(run={"workers": 1, "regions_per_worker": 3})
    run_dir = tmp_path / "run"

    summary = _run(write_config(config), run_dir, simulate_latency=0.4)

    assert set(_statuses(summary).values()) == {"done"}
    spans = [
        (c.started_at, c.finished_at)
        for c in map(read_checkpoint, (run_dir / "checkpoints").glob("*.json"))
    ]
    assert max(start for start, _ in spans) < min(end for _, end in spans)


@pytest.mark.parametrize("fault", ["exit", "hang"])
def test_fault_in_a_shared_worker_charges_only_its_region(
    write_config: Callable[..., Path], tmp_path: Path, fault: str
) -> None:
    config = small_config(
        agent={"model": "offline", "timeout_seconds": 1},
        run={
            "workers": 1,
            "regions_per_worker": 3,
            "retries": 0,
            "min_success_share": 0.5,
        },
    )

    summary = _run(
        write_config(config),
        tmp_path / "run",
        executor_factory=fault_pool({"North Side": fault}),
        hang_grace_seconds=1.0,
    )

    statuses = _statuses(summary)
    assert statuses["Downtown"] == statuses["South Side"] == "done"
    assert statuses["North Side"] == ("crashed" if fault == "exit" else "timeout")
