"""Merge a run folder into the DuckDB results database.

Merging reads the run's valid checkpoints, checks every candidate, links the
candidates into companies and replaces the run's rows in one transaction, so
merging the same run twice leaves identical tables and company ids. The
checkpoints are read from the run folder or from the storage URL the run
wrote them to, one checkpoint per region.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
from loguru import logger

from leadgen.checkpoint import (
    Checkpoint,
    RegionUsage,
    parse_checkpoint,
    read_checkpoint,
)
from leadgen.config import BatchConfig
from leadgen.dedup import (
    Cluster,
    NormalizedRecord,
    Record,
    best_values,
    cluster_normalized,
    gc_paused,
    normalize_record,
)
from leadgen.errors import CheckpointError, StorageError, UsageError
from leadgen.manifest import read_manifest
from leadgen.normalize import parse_website
from leadgen.plan import checkpoint_path
from leadgen.spec import RegionSpec, cache_key, region_specs
from leadgen.storage import Location, RemotePath, locate, read_many
from leadgen.validate import DUPLICATE_IN_REGION, RegionBounds, drop_reason

DEFAULT_DB = Path("data") / "leadgen.duckdb"
TABLES = ("runs", "region_results", "candidates", "companies")
# The integer counters of a region's usage (cost is a float, kept apart).
USAGE_FIELDS = tuple(name for name in RegionUsage.model_fields if name != "cost_usd")


@dataclass(frozen=True)
class MergeResult:
    """What a merge put into the database."""

    run_name: str
    regions: int
    candidates: int
    companies: int


@dataclass(frozen=True)
class _Region:
    spec: RegionSpec
    record: dict[str, Any]
    checkpoint: Checkpoint | None


def merge_run(run_dir: Location | str, db_path: Path = DEFAULT_DB) -> MergeResult:
    """Load a run's checkpoints into the database, replacing that run's rows.

    ``run_dir`` is a run folder, or the storage URL of a run given one.
    """
    root = locate(run_dir)
    try:
        manifest = read_manifest(root)
    except OSError as exc:
        raise StorageError(f"{root}: cannot read run.json ({exc})") from None
    if manifest is None:
        raise UsageError(
            f"{root}: no readable run.json; give a run folder such as "
            "data/runs/denver or the run's --storage URL"
        )
    # Checking and linking build millions of small objects and no cycles: the
    # collector's passes over them would cost a fifth of a large merge.
    with gc_paused():
        regions = list(_regions(root, manifest))
        checked = _candidate_rows(manifest["run_name"], regions)
        companies = _link(checked)
    candidates = [row for row, _ in checked]
    region_rows = [_region_row(manifest["run_name"], region) for region in regions]
    run_row = _run_row(root, manifest, regions, candidates, companies)

    with connect(db_path) as con:
        _replace_run(
            con, manifest["run_name"], run_row, region_rows, candidates, companies
        )

    result = MergeResult(
        run_name=manifest["run_name"],
        regions=sum(region.checkpoint is not None for region in regions),
        candidates=len(candidates),
        companies=len(companies),
    )
    logger.info(
        f"merged run {result.run_name!r} into {db_path}: {result.regions} region(s), "
        f"{result.candidates} candidates, {result.companies} companies"
    )
    return result


@contextmanager
def connect(
    db_path: Path, read_only: bool = False, sandbox: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database (creating its tables when writable), with clear errors.

    ``sandbox`` also denies access to files outside the database, for running
    SQL a user typed: it can then neither change the database nor write files.
    """
    if read_only and not db_path.exists():
        raise UsageError(
            f"{db_path}: no database yet; run a batch or `leadgen merge` first"
        )
    try:
        if not read_only:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = (
            {"enable_external_access": False} if sandbox else {}
        )
        con = duckdb.connect(str(db_path), read_only=read_only, config=config)
    except (duckdb.IOException, OSError) as exc:
        raise StorageError(
            f"{db_path}: cannot open the database ({_first_line(exc)}); another "
            "leadgen process may be writing it, try again when it has finished"
        ) from None
    try:
        if not read_only:
            con.execute(_schema_sql())
        yield con
    finally:
        con.close()


def _schema_sql() -> str:
    return resources.files("leadgen").joinpath("warehouse_schema.sql").read_text()


def _regions(run_dir: Location, manifest: dict[str, Any]) -> Iterator[_Region]:
    """Every region of the run's config, with its valid checkpoint if any."""
    batch = BatchConfig.model_validate(manifest["config"])
    records = {record["region"]: record for record in manifest.get("regions", [])}
    specs = region_specs(batch, manifest["model"])
    fetched = _fetch_remote([checkpoint_path(run_dir, spec) for spec in specs])
    for spec in specs:
        record = records.get(spec.region, {"region": spec.region, "slug": spec.slug})
        key = record.get("cache_key") or cache_key(spec)
        path = checkpoint_path(run_dir, spec)
        try:
            if isinstance(path, RemotePath):
                checkpoint = _parse_fetched(fetched.get(str(path)), str(path), key)
            else:
                checkpoint = read_checkpoint(path, key)
        except (FileNotFoundError, CheckpointError):
            checkpoint = None
        yield _Region(spec, record, checkpoint)


def _fetch_remote(paths: list[Location]) -> dict[str, bytes | None]:
    # Object stores answer many requests at once far faster than one by one.
    remote = [path for path in paths if isinstance(path, RemotePath)]
    if not remote:
        return {}
    try:
        return dict(zip(map(str, remote), read_many(remote), strict=True))
    except OSError as exc:
        folder = remote[0].parent
        raise StorageError(f"{folder}: cannot read checkpoints ({exc})") from None


def _parse_fetched(raw: bytes | None, where: str, key: str) -> Checkpoint:
    if raw is None:
        raise FileNotFoundError(where)
    return parse_checkpoint(raw, where, key)


def _candidate_rows(
    run_name: str, regions: Sequence[_Region]
) -> list[tuple[dict[str, Any], NormalizedRecord]]:
    """Every row of every valid checkpoint, checked and normalised once."""
    rows = []
    for region in regions:
        if region.checkpoint is None:
            continue
        spec = region.spec
        bounds = RegionBounds(spec.state, spec.zip_codes, spec.areas)
        for company in region.checkpoint.companies:
            row = company.model_dump()
            row.update(
                run_name=run_name,
                candidate_id=f"{spec.slug}:{company.rank}",
                region=spec.region,
                drop_reason=drop_reason(
                    company.name,
                    company.website,
                    company.state,
                    company.postal_code,
                    bounds,
                ),
            )
            normalized = normalize_record(_record(row))
            row.update(
                name_norm=normalized.name_norm or None,
                domain=normalized.domain,
                host=normalized.host,
                phone_e164=normalized.phone_e164,
                phone_ext=normalized.phone_ext,
                company_id=None,
            )
            rows.append((row, normalized))
    return rows


def _record(row: dict[str, Any]) -> Record:
    return Record(
        key=row["candidate_id"],
        name=row["name"],
        website=row["website"],
        phone=row["phone"],
        street_address=row["street_address"],
        city=row["city"],
        state=row["state"],
        postal_code=row["postal_code"],
    )


def _link(
    candidates: list[tuple[dict[str, Any], NormalizedRecord]],
) -> list[dict[str, Any]]:
    """Cluster valid candidates into companies; mark in-region duplicates."""
    valid = {
        row["candidate_id"]: (row, norm)
        for row, norm in candidates
        if row["drop_reason"] is None
    }
    clusters = cluster_normalized([norm for _, norm in valid.values()])
    companies = []
    for found in clusters:
        members = [valid[key] for key in found.keys]
        for row, _ in members:
            row["company_id"] = found.company_id
        _mark_region_duplicates([row for row, _ in members])
        companies.append(_company_row(found, members))
    return companies


def _mark_region_duplicates(members: list[dict[str, Any]]) -> None:
    # A region that returned one company twice keeps its best-ranked row.
    seen: set[str] = set()
    for row in sorted(members, key=lambda r: (r["region"], r["rank"])):
        if row["region"] in seen:
            row["drop_reason"] = DUPLICATE_IN_REGION
        seen.add(row["region"])


def _company_row(
    found: Cluster, members: list[tuple[dict[str, Any], NormalizedRecord]]
) -> dict[str, Any]:
    rows = [row for row, _ in members]
    values = best_values([_record(row) for row in rows], [n for _, n in members])
    website = parse_website(values["website"])
    regions = sorted({row["region"] for row in rows})
    return {
        "run_name": rows[0]["run_name"],
        "company_id": found.company_id,
        **values,
        "domain": website.domain if website else None,
        "meets_criteria": any(row["meets_criteria"] for row in rows),
        "regions": regions,
        "region_count": len(regions),
        "discovery_sources": sorted({row["discovery_source"] for row in rows}),
        "candidate_count": len(rows),
        "best_rank": min(row["rank"] for row in rows),
        "source_urls": sorted({row["source_url"] for row in rows if row["source_url"]}),
        "match_reasons": sorted({link.reason for link in found.links}),
    }


def _region_row(run_name: str, region: _Region) -> dict[str, Any]:
    record, checkpoint = region.record, region.checkpoint
    usage = dict(record.get("usage") or {})
    if not usage and checkpoint is not None:
        usage = checkpoint.usage.model_dump()
    status = record.get("status") or ("done" if checkpoint else "not_run")
    if checkpoint is not None and status not in ("done", "skipped"):
        status = "done"  # the checkpoint is the truth about a finished region
    return {
        "run_name": run_name,
        "region": region.spec.region,
        "slug": region.spec.slug,
        "status": status,
        "attempts": record.get("attempts") or (checkpoint.attempt if checkpoint else 0),
        "seconds": record.get("seconds")
        or (checkpoint.seconds if checkpoint else None),
        "companies": len(checkpoint.companies) if checkpoint else None,
        **{name: int(usage.get(name) or 0) for name in USAGE_FIELDS},
        "cost_usd": usage.get("cost_usd"),
        "search_exhausted": checkpoint.search_exhausted if checkpoint else None,
        "quality_notes": checkpoint.quality_notes if checkpoint else None,
        "error_type": None if checkpoint else record.get("error_type"),
        "error": None if checkpoint else record.get("error"),
    }


def _run_row(
    run_dir: Location,
    manifest: dict[str, Any],
    regions: Sequence[_Region],
    candidates: Sequence[dict[str, Any]],
    companies: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "run_name": manifest["run_name"],
        "run_dir": str(run_dir),
        "config_path": manifest.get("config_path"),
        "config_hash": manifest.get("config_hash"),
        "model": manifest.get("model"),
        "status": manifest.get("status"),
        "regions": len(regions),
        "regions_done": sum(region.checkpoint is not None for region in regions),
        "candidates": len(candidates),
        "companies": len(companies),
        "updated_at": datetime.fromtimestamp(manifest.get("updated_at") or 0).isoformat(
            timespec="seconds"
        ),
    }


def _replace_run(
    con: duckdb.DuckDBPyConnection,
    run_name: str,
    run_row: dict[str, Any],
    region_rows: list[dict[str, Any]],
    candidates: list[dict[str, Any]],
    companies: list[dict[str, Any]],
) -> None:
    """Swap the run's rows for the new ones in one transaction."""
    rows = {
        "runs": [run_row],
        "region_results": region_rows,
        "candidates": candidates,
        "companies": companies,
    }
    with tempfile.TemporaryDirectory(prefix="leadgen-merge-") as tmp:
        files = {
            table: _write_ndjson(Path(tmp), table, rows[table]) for table in TABLES
        }
        con.execute("BEGIN TRANSACTION")
        try:
            for table in TABLES:
                con.execute(f"DELETE FROM {table} WHERE run_name = ?", [run_name])
                _insert(con, table, files[table])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def _write_ndjson(folder: Path, table: str, rows: list[dict[str, Any]]) -> Path:
    path = folder / f"{table}.json"
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False))
            handle.write("\n")
    return path


def _insert(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    """Insert a file of JSON rows, typed by the table's own columns."""
    described = con.execute(f"DESCRIBE {table}").fetchall()
    if path.stat().st_size == 0:
        return
    columns = {name: kind for name, kind, *_ in described}
    spec = ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items())
    names = ", ".join(columns)
    con.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM read_json(?, "
        f"format = 'newline_delimited', columns = {{{spec}}})",
        [str(path)],
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def quality_rows(
    db_path: Path, run_name: str, regions: Sequence[str]
) -> list[dict[str, Any]]:
    """The ``region_quality`` rows of the given regions of a run, in that order."""
    with connect(db_path, read_only=True) as con:
        cursor = con.execute(
            "SELECT * FROM region_quality WHERE run_name = ?", [run_name]
        )
        columns = [column[0] for column in cursor.description or []]
        rows = {
            row[1]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()
        }
        total = con.execute(
            "SELECT companies FROM runs WHERE run_name = ?", [run_name]
        ).fetchone()
    ordered = [rows[name] for name in regions if name in rows]
    for row in ordered:
        row["run_companies"] = total[0] if total else None
    return ordered
