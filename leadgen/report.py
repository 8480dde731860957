"""The picture of a merged run: companies per region beside a map of the yield.

The figures come from the results database (the ``region_quality`` view);
the regions' ZIP codes come from the config snapshot in the run folder's
manifest, so the map shows the ground each region really searched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from leadgen.config import BatchConfig
from leadgen.errors import UsageError
from leadgen.geography import RegionGround, region_grounds
from leadgen.manifest import read_manifest
from leadgen.maps import write_yield_report
from leadgen.storage import Location, locate
from leadgen.warehouse import connect, quality_rows


@dataclass(frozen=True)
class RunReport:
    """What ``write_report`` drew.

    Attributes:
        path: The PNG written.
        quality: The run's ``region_quality`` rows, in region order.
        mapped: False when the run folder could not be read, so the picture
            has the chart but no map.
    """

    path: Path
    quality: list[dict[str, Any]]
    mapped: bool


def write_report(db_path: Path, run_name: str, out: Path) -> RunReport:
    """Draw a merged run's companies per region and its yield map into ``out``.

    Raises:
        UsageError: If the database holds no run of that name.
        StorageError: If the database or the picture cannot be opened/written.
    """
    run_dir, stored_names = _run_record(db_path, run_name)
    grounds = _grounds(run_dir)
    names = [ground.name for ground in grounds] or stored_names
    quality = quality_rows(db_path, run_name, names)

    total = quality[0]["run_companies"] if quality else 0
    title = f"Run {run_name}: {total} companies from {len(quality)} region(s)"
    write_yield_report(grounds, quality, out, title)
    return RunReport(out, quality, bool(grounds))


def _run_record(db_path: Path, run_name: str) -> tuple[Location | None, list[str]]:
    """The run's folder and region names as the database recorded them."""
    with connect(db_path, read_only=True) as con:
        found = con.execute(
            "SELECT run_dir FROM runs WHERE run_name = ?", [run_name]
        ).fetchone()
        if found is None:
            runs = [
                row[0] for row in con.execute("SELECT run_name FROM runs").fetchall()
            ]
            known = ", ".join(sorted(runs)) or "none"
            raise UsageError(
                f"no run named {run_name!r} in {db_path} (runs: {known}); merge it "
                "first with `leadgen merge RUN_DIR`"
            )
        regions = con.execute(
            "SELECT region FROM region_results WHERE run_name = ? ORDER BY region",
            [run_name],
        ).fetchall()
    return _location(found[0]), [row[0] for row in regions]


def _location(run_dir: str | None) -> Location | None:
    # A run kept on storage this machine has no filesystem package for is
    # reported like a run folder that is gone.
    try:
        return locate(run_dir) if run_dir else None
    except UsageError:
        return None


def _grounds(run_dir: Location | None) -> list[RegionGround]:
    """The run's regions from its manifest, or none if the folder is gone."""
    try:
        manifest = read_manifest(run_dir) if run_dir is not None else None
    except OSError:  # remote storage that cannot be reached from here
        manifest = None
    if manifest is None:
        return []
    try:
        batch = BatchConfig.model_validate(manifest["config"])
    except (KeyError, ValidationError):
        return []
    return region_grounds(batch)
