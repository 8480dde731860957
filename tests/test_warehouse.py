"""Merging runs into DuckDB, region quality, and the query/export/dedup commands."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from leadgen.checkpoint import read_checkpoint, write_checkpoint
from leadgen.cli import main
from leadgen.config import load_config
from leadgen.runner import RunOptions, run_batch
from leadgen.warehouse import merge_run

from .conftest import small_config


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished three-region offline run folder, shared by this module."""
    folder = tmp_path_factory.mktemp("finished")
    path = folder / "small.yaml"
    path.write_text(yaml.safe_dump(_overlapping_config()))
    run_dir = folder / "run"
    summary = run_batch(load_config(path), RunOptions(run_dir=run_dir))
    assert summary.exit_code == 0
    return run_dir


@pytest.fixture
def run_dir(finished_run: Path, tmp_path: Path) -> Path:
    """A private copy of the finished run that a test may change."""
    return Path(shutil.copytree(finished_run, tmp_path / "run"))


def _overlapping_config() -> dict[str, Any]:
    """Three neighbouring regions of Denver, wide enough to share firms."""
    regions = [
        {
            "name": "Downtown",
            "areas": ["Capitol Hill"],
            "zip_codes": ["80202", "80203", "80204", "80218"],
        },
        {
            "name": "North Side",
            "areas": ["Highlands"],
            "zip_codes": ["80205", "80207", "80211", "80212", "80216"],
        },
        {
            "name": "South Side",
            "areas": ["Cherry Creek"],
            "zip_codes": ["80206", "80209", "80210", "80220"],
        },
    ]
    return small_config(
        geography={"metro": "Denver", "state": "CO", "regions": regions},
        target={
            "description": "Residential property management companies",
            "criteria": {"min_units": 50},
            "companies_per_region": 60,
        },
    )


def _table(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_merge_deduplicates_and_tags_regions(run_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "l.duckdb"

    result = merge_run(run_dir, db)

    assert 0 < result.companies < result.candidates
    rows = _table(db, "SELECT regions, region_count, discovery_sources FROM companies")
    assert all(regions and len(regions) == count for regions, count, _ in rows)
    assert any(count > 1 for _, count, _ in rows), "no company found by two regions"
    sources = {s for _, _, found in rows for s in found}
    assert sources == {
        "agent:multi_region:Downtown",
        "agent:multi_region:North_Side",
        "agent:multi_region:South_Side",
    }
    quality = _table(db, "SELECT region, status FROM region_quality ORDER BY region")
    assert quality == [
        ("Downtown", "done"),
        ("North Side", "done"),
        ("South Side", "done"),
    ]


def test_merging_twice_gives_identical_tables(run_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "l.duckdb"
    tables = [
        "runs",
        "region_results",
        "candidates",
        "companies",
        "region_quality",
        "region_overlap",
    ]

    merge_run(run_dir, db)
    first = {t: sorted(map(str, _table(db, f"SELECT * FROM {t}"))) for t in tables}
    merge_run(run_dir, db)
    second = {t: sorted(map(str, _table(db, f"SELECT * FROM {t}"))) for t in tables}

    assert first == second
    assert _table(db, "SELECT count(*) FROM runs") == [(1,)]


def test_company_ids_survive_a_rerun_from_scratch(
    run_dir: Path, tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    db = tmp_path / "l.duckdb"
    merge_run(run_dir, db)
    before = _table(db, "SELECT company_id, name FROM companies ORDER BY 1")

    fresh = tmp_path / "fresh"
    config = write_config(_overlapping_config())
    run_batch(load_config(config), RunOptions(run_dir=fresh))
    merge_run(fresh, db)

    assert _table(db, "SELECT company_id, name FROM companies ORDER BY 1") == before


def test_overlap_matches_company_regions(run_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "l.duckdb"
    merge_run(run_dir, db)

    overlap = _table(
        db, "SELECT region_a, region_b, shared_companies FROM region_overlap"
    )
    expected: dict[tuple[str, str], int] = {}
    for (regions,) in _table(
        db, "SELECT regions FROM companies WHERE region_count > 1"
    ):
        for i, a in enumerate(regions):
            for b in regions[i + 1 :]:
                expected[(a, b)] = expected.get((a, b), 0) + 1
    assert {(a, b): n for a, b, n in overlap} == expected


def test_bad_agent_rows_are_dropped_with_reasons(run_dir: Path, tmp_path: Path) -> None:
    path = run_dir / "checkpoints" / "downtown.json"
    checkpoint = read_checkpoint(path)
    good = checkpoint.companies[0]
    bad = [
        good.model_copy(update={"name": "  ", "rank": 91}),
        good.model_copy(update={"name": "X Mgmt", "website": "not a url", "rank": 92}),
        good.model_copy(update={"name": "Y Mgmt", "state": "Narnia", "rank": 93}),
        good.model_copy(
            update={"name": "Z Mgmt", "postal_code": "10001", "state": "NY", "rank": 94}
        ),
        good.model_copy(update={"rank": 95}),  # the same company twice in one answer
    ]
    write_checkpoint(
        path, checkpoint.model_copy(update={"companies": [*checkpoint.companies, *bad]})
    )
    db = tmp_path / "l.duckdb"

    merge_run(run_dir, db)

    reasons = dict(
        _table(
            db,
            "SELECT candidate_id, drop_reason FROM candidates "
            "WHERE candidate_id LIKE 'downtown:9_'",
        )
    )
    assert reasons == {
        "downtown:91": "empty_name",
        "downtown:92": "bad_website",
        "downtown:93": "bad_state",
        "downtown:94": "outside_region",
        "downtown:95": "duplicate_in_region",
    }
    row = _table(
        db,
        "SELECT status, dropped, drop_reasons, duplicates_in_region "
        "FROM region_quality WHERE region = 'Downtown'",
    )[0]
    assert row[0] == "done"
    assert row[1] == 4
    assert "empty_name: 1" in row[2] and "bad_website: 1" in row[2]
    assert row[3] >= 1


def test_query_formats_and_read_only(run_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "l.duckdb"
    merge_run(run_dir, db)
    runner = CliRunner()

    as_json = runner.invoke(
        main,
        [
            "query",
            "select region from region_quality order by 1",
            "--db",
            str(db),
            "--format",
            "json",
        ],
    )
    as_csv = runner.invoke(
        main,
        [
            "query",
            "select count(*) as n from companies",
            "--db",
            str(db),
            "--format",
            "csv",
        ],
    )
    write = runner.invoke(main, ["query", "delete from companies", "--db", str(db)])
    copy = runner.invoke(
        main, ["query", f"copy companies to '{tmp_path}/x.csv'", "--db", str(db)]
    )

    assert json.loads(as_json.stdout) == [
        {"region": "Downtown"},
        {"region": "North Side"},
        {"region": "South Side"},
    ]
    assert as_csv.stdout.splitlines()[0] == "n"
    assert int(as_csv.stdout.splitlines()[1]) > 0
    assert write.exit_code == 1 and write.stderr.startswith("Error: SQL: ")
    assert copy.exit_code == 1 and not (tmp_path / "x.csv").exists()
    assert _table(db, "SELECT count(*) FROM companies")[0][0] > 0


def test_query_without_database_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["query", "select 1", "--db", str(tmp_path / "none.duckdb")]
    )

    assert result.exit_code == 2
    assert "run a batch or `leadgen merge` first" in result.stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_uses_crm_columns(run_dir: Path, tmp_path: Path, fmt: str) -> None:
    db = tmp_path / "l.duckdb"
    merge_run(run_dir, db)
    out = tmp_path / f"leads.{fmt}"

    result = CliRunner().invoke(
        main, ["export", "small", "--format", fmt, "--out", str(out), "--db", str(db)]
    )

    assert result.exit_code == 0, result.output
    with duckdb.connect() as con:
        exported = con.sql(f"SELECT * FROM '{out}'")
        columns, rows = exported.columns, exported.fetchall()
    assert columns[:8] == [
        "Company Name",
        "Website",
        "Domain",
        "Phone",
        "Street",
        "City",
        "State",
        "Postal Code",
    ]
    eligible = _table(db, "SELECT count(*) FROM companies WHERE meets_criteria")[0][0]
    assert len(rows) == eligible > 0


def test_export_of_unknown_run_names_the_known_ones(
    run_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "l.duckdb"
    merge_run(run_dir, db)

    result = CliRunner().invoke(
        main, ["export", "denverr", "--out", str(tmp_path / "x.csv"), "--db", str(db)]
    )

    assert result.exit_code == 2
    assert "no run named 'denverr'; merged runs: 'small'" in result.stderr


def test_dedup_command_keeps_rows_and_adds_ids(tmp_path: Path) -> None:
    source = tmp_path / "crm.csv"
    source.write_text(
        "Account,Web,Tel,Owner\n"
        "Acme Property Mgmt LLC,https://www.acmepm.example/contact,(720) 555-0142,ann\n"
        "ACME PROPERTY MANAGEMENT,acmepm.example,720.555.0142,bob\n"
        "Birch Realty Group,birchrealty.example,303-555-0199,ann\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"

    result = CliRunner().invoke(
        main,
        [
            "dedup",
            str(source),
            "--out",
            str(out),
            "--column",
            "name=Account",
            "--column",
            "website=Web",
            "--column",
            "phone=Tel",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "3 rows, 2 companies" in result.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["Owner"] for row in rows] == ["ann", "bob", "ann"]
    assert rows[0]["company_id"] == rows[1]["company_id"] != rows[2]["company_id"]


def test_dedup_with_bad_mapping_is_a_usage_error(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("a,b\n1,2\n")

    result = CliRunner().invoke(
        main,
        ["dedup", str(source), "--out", str(tmp_path / "o.csv"), "--column", "name"],
    )

    assert result.exit_code == 2
    assert "expected FIELD=HEADER" in result.stderr


def test_run_whose_merge_fails_still_prints_its_table(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    from leadgen.cli import run_command

    path = write_config(small_config())
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    db = blocker / "leads.duckdb"  # its folder cannot be created

    result = CliRunner().invoke(
        run_command, [str(path), "--run-dir", str(tmp_path / "run"), "--db", str(db)]
    )

    assert result.exit_code == 5, result.output
    assert result.stdout.splitlines()[0].split()[:2] == ["Region", "Status"]
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: {db}:")
    assert len(list((tmp_path / "run" / "checkpoints").glob("*.json"))) == 3
