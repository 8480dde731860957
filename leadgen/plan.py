"""Decide what a run must do: which regions are finished, which must run.

A region is finished when its checkpoint is valid for the region's current
cache key. Damaged or stale checkpoints are moved aside with a warning, never
deleted, and their regions run again. Checkpoints and ``run.json`` live in the
run folder or on the storage named by a URL; the run folder always stays on
this machine for the lock, the log and the rate-limit bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loguru import logger

from leadgen.checkpoint import Checkpoint, read_checkpoint, set_aside
from leadgen.config import LoadedConfig, canonical_hash, region_slug
from leadgen.errors import CheckpointError, UsageError
from leadgen.manifest import Manifest, RegionRecord, file_stat, read_manifest
from leadgen.spec import (
    OFFLINE_MODEL,
    RegionSpec,
    cache_key,
    region_specs,
    resolve_model,
)
from leadgen.storage import Location, RemotePath


@dataclass(frozen=True)
class PlannedRegion:
    """A region of this run with its key and checkpoint location."""

    spec: RegionSpec
    cache_key: str
    checkpoint_path: Location


@dataclass
class RunPlan:
    """What a run will do, decided before any worker starts.

    ``run_dir`` is the local run folder (lock, log, rate-limit bucket);
    ``storage`` is where checkpoints and ``run.json`` live, the run folder
    itself unless the run was given a storage URL.
    """

    loaded: LoadedConfig
    run_dir: Path
    model: str
    todo: list[PlannedRegion]
    skipped: list[PlannedRegion]
    manifest: Manifest
    storage: Location

    @property
    def selected(self) -> list[str]:
        """Names of the regions this run covers, in config order."""
        chosen = {item.spec.region for item in [*self.todo, *self.skipped]}
        return [name for name in self.manifest.regions if name in chosen]

    @property
    def max_attempts(self) -> int:
        return self.loaded.batch.run.retries + 1


def checkpoint_path(run_dir: Location, spec: RegionSpec) -> Location:
    """Where a region's checkpoint lives in a run folder (local or remote)."""
    return run_dir / "checkpoints" / f"{spec.slug}.json"


def plan_run(
    loaded: LoadedConfig,
    run_dir: Path,
    only: tuple[str, ...] = (),
    storage: Location | None = None,
) -> RunPlan:
    """Resolve the model, select regions and sort them into skipped and to-do.

    Checkpoints are looked for in ``storage`` (default: ``run_dir``).
    """
    batch = loaded.batch
    model = resolve_model(batch.agent.model)
    if batch.agent.model == "auto" and model == OFFLINE_MODEL:
        logger.warning(
            "OPENAI_API_KEY is not set: using the offline model; the results are "
            "SAMPLE DATA from a built-in directory of fictional businesses"
        )

    storage = run_dir if storage is None else storage
    _remove_partial_writes(storage)
    previous = _previous_records(storage)
    stat_of = _stat_lookup(storage)
    specs = region_specs(batch, model)
    selected = {spec.slug for spec in select_regions(specs, only, loaded)}
    todo: list[PlannedRegion] = []
    skipped: list[PlannedRegion] = []
    records: dict[str, RegionRecord] = {}

    for spec in specs:
        planned = PlannedRegion(spec, cache_key(spec), checkpoint_path(storage, spec))
        record = RegionRecord(spec.region, spec.slug, planned.cache_key)
        records[spec.region] = record
        if _still_valid(previous.get(spec.region), planned, record, stat_of):
            if spec.slug in selected:
                skipped.append(planned)
            continue
        if spec.slug not in selected:
            _mark_unselected(record, planned, stat_of)
            continue
        checkpoint = _valid_checkpoint(planned)
        if checkpoint is None:
            todo.append(planned)
        else:
            skipped.append(planned)
            _mark_skipped(record, checkpoint, stat_of(planned.checkpoint_path))

    if skipped:
        logger.info(
            f"skipping {len(skipped)} region(s) with a valid checkpoint; "
            f"{len(todo)} to run"
        )
    snapshot = batch.model_dump(mode="json")
    manifest = Manifest(
        run_name=loaded.name,
        config_path=str(loaded.path),
        config_hash=canonical_hash(snapshot),
        config=snapshot,
        model=model,
        regions=records,
    )
    return RunPlan(loaded, run_dir, model, todo, skipped, manifest, storage)


def select_regions(
    specs: list[RegionSpec], only: tuple[str, ...], loaded: LoadedConfig
) -> list[RegionSpec]:
    """Keep only the regions named by ``--only`` (by name or slug, any case)."""
    if not only:
        return specs
    by_slug = {spec.slug: spec for spec in specs}
    chosen: dict[str, RegionSpec] = {}
    for name in only:
        spec = by_slug.get(region_slug(name))
        if spec is None:
            known = ", ".join(repr(s.region) for s in specs)
            raise UsageError(
                f"--only {name!r}: {loaded.path} has no such region; "
                f"choose from {known}"
            )
        chosen[spec.slug] = spec
    return [spec for spec in specs if spec.slug in chosen]


def _valid_checkpoint(planned: PlannedRegion) -> Checkpoint | None:
    path = planned.checkpoint_path
    try:
        return read_checkpoint(path, planned.cache_key)
    except FileNotFoundError:
        return None
    except CheckpointError as exc:
        reason = "stale" if "cache key" in str(exc) else "damaged"
        kept = set_aside(path, reason)
        logger.warning(
            f"checkpoint not usable, region will run again: {exc}; kept as {kept}"
        )
        return None


def _previous_records(run_dir: Location) -> dict[str, dict[str, Any]]:
    manifest = read_manifest(run_dir) or {}
    records = manifest.get("regions")
    if not isinstance(records, list):
        return {}
    return {r["region"]: r for r in records if isinstance(r, dict) and "region" in r}


def _still_valid(
    previous: dict[str, Any] | None,
    planned: PlannedRegion,
    record: RegionRecord,
    stat_of: Callable[[Location], list[int | str] | None],
) -> bool:
    """True when the checkpoint is the very file an earlier run found valid.

    Same cache key, same size and modification time: parsing it again would
    prove nothing new, and skipping that keeps resuming a large run fast.
    """
    if previous is None or previous.get("status") not in ("done", "skipped"):
        return False
    stat = previous.get("checkpoint_stat")
    if previous.get("cache_key") != planned.cache_key or stat is None:
        return False
    if stat_of(planned.checkpoint_path) != stat:
        return False

    record.status = "skipped"
    record.attempts = int(previous.get("attempts") or 0)
    record.seconds = previous.get("seconds")
    record.companies = previous.get("companies")
    record.usage = dict(previous.get("usage") or {})
    record.checkpoint_stat = stat
    return True


def _stat_lookup(storage: Location) -> Callable[[Location], list[int | str] | None]:
    """How to get a checkpoint's size and version without reading it.

    Locally that is one ``stat`` per file. On remote storage one listing of
    the checkpoints folder answers for every region, instead of a request
    per region.
    """
    if isinstance(storage, Path):
        return file_stat
    listed = (storage / "checkpoints").listing()
    return lambda location: listed.get(location.name)


def _remove_partial_writes(run_dir: Location) -> None:
    # A worker killed while writing leaves its hidden temporary file behind;
    # the checkpoint itself is either whole or absent, so the rest is litter.
    # Remote checkpoints are written in one put and leave no temporary file.
    if isinstance(run_dir, RemotePath):
        return
    for leftover in (run_dir / "checkpoints").glob(".*.tmp"):
        leftover.unlink(missing_ok=True)
        logger.debug(f"removed a partial write left by a killed worker: {leftover}")


def _mark_unselected(
    record: RegionRecord,
    planned: PlannedRegion,
    stat_of: Callable[[Location], list[int | str] | None],
) -> None:
    # Left out by --only: report what is on disk without touching it.
    try:
        checkpoint = read_checkpoint(planned.checkpoint_path, planned.cache_key)
    except (FileNotFoundError, CheckpointError):
        record.status = "not_selected"
        return
    _mark_skipped(record, checkpoint, stat_of(planned.checkpoint_path))


def _mark_skipped(
    record: RegionRecord, checkpoint: Checkpoint, stat: list[int | str] | None
) -> None:
    record.status = "skipped"
    record.attempts = checkpoint.attempt
    record.seconds = checkpoint.seconds
    record.companies = len(checkpoint.companies)
    record.usage = checkpoint.usage.model_dump()
    record.checkpoint_stat = stat
