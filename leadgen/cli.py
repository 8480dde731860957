"""The ``leadgen`` command line: thin commands over the library.

Each command parses its options and calls one library function. Errors the
library expects (``LeadgenError``) become one line on stderr and a fixed exit
code: 2 for config and usage errors, 3 when too few regions succeeded, 4 when
the run folder is locked, 5 for storage problems, 130 when interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from leadgen import __version__, logs
from leadgen.errors import LeadgenError, UsageError

F = TypeVar("F", bound=Callable[..., Any])

DB_OPTION = click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("data") / "leadgen.duckdb",
    show_default=True,
    help="The results database.",
)


def friendly_errors(func: F) -> F:
    """Turn expected errors into ``Error: ...`` and their exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LeadgenError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(__version__, prog_name="leadgen")
def main() -> None:
    """Build deduplicated lead lists with parallel region agents."""


@click.command("run")
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    help="Worker processes (default: the config's run.workers).",
)
@click.option(
    "--regions-per-worker",
    type=click.IntRange(1, 64),
    help="Regions each worker process runs at once (default: the config's).",
)
@click.option("--only", multiple=True, metavar="REGION", help="Run just this region.")
@click.option("--fresh", is_flag=True, help="Start over; the old run folder is kept.")
@click.option(
    "--run-dir",
    type=click.Path(path_type=str, file_okay=False),
    help="Run folder (default: DATA_DIR/runs/<config name>); a storage URL here "
    "is the same as --storage URL.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("data"),
    show_default=True,
    help="Where runs are kept.",
)
@click.option(
    "--storage",
    metavar="URL",
    help="Keep checkpoints and run.json here instead of the run folder: a folder "
    "or an fsspec URL such as s3://bucket/prefix/run (the lock and log stay in "
    "the run folder).",
)
@click.option(
    "--executor",
    type=click.Choice(["process", "dask"]),
    help="Where regions run: a local process pool or a Dask cluster "
    "(default: the config's run.executor, process).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="The Dask scheduler for --executor dask, e.g. tcp://10.0.0.5:8786.",
)
@click.option(
    "--simulate-latency",
    type=click.FloatRange(0, 3600),
    default=0.0,
    metavar="SECONDS",
    help="Delay added to each model turn (demos).",
)
@click.option(
    "--grace",
    type=click.FloatRange(0, 3600),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="After Ctrl-C, how long running regions may finish.",
)
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The results database (default: DATA_DIR/leadgen.duckdb).",
)
@click.option("--no-merge", is_flag=True, help="Do not merge into the database.")
@click.option("-v", "--verbose", is_flag=True, help="Log detail at DEBUG.")
@click.option("-q", "--quiet", is_flag=True, help="Log warnings and errors only.")
@friendly_errors
def run_command(
    config: Path,
    workers: int | None,
    regions_per_worker: int | None,
    only: tuple[str, ...],
    fresh: bool,
    run_dir: str | None,
    data_dir: Path,
    storage: str | None,
    executor: str | None,
    scheduler: str | None,
    simulate_latency: float,
    grace: float,
    db: Path | None,
    no_merge: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Run or resume the batch described by CONFIG."""
    from leadgen.config import load_config
    from leadgen.runner import RunOptions, run_batch
    from leadgen.summary import print_summary

    logs.configure(verbose=verbose, quiet=quiet)
    loaded = load_config(config)
    folder, storage = _run_location(run_dir, storage)
    options = RunOptions(
        data_dir=data_dir,
        run_dir=folder,
        workers=workers,
        regions_per_worker=regions_per_worker,
        only=only,
        fresh=fresh,
        simulate_latency=simulate_latency,
        verbose=verbose,
        quiet=quiet,
        grace_seconds=grace,
        executor=executor,
        scheduler=scheduler,
        storage=storage,
    )
    summary = run_batch(loaded, options)
    if not summary.succeeded or no_merge:
        print_summary(summary)
        sys.exit(summary.exit_code)

    from leadgen.warehouse import merge_run, quality_rows

    db = db or data_dir / "leadgen.duckdb"
    try:
        merge_run(summary.storage or summary.run_dir, db)
        quality = quality_rows(db, loaded.name, [r.region for r in summary.records])
    except LeadgenError:
        # The run itself is saved; show it before saying the merge failed.
        print_summary(summary)
        raise
    print_summary(summary, quality)
    sys.exit(summary.exit_code)


main.add_command(run_command)


def _run_location(
    run_dir: str | None, storage: str | None
) -> tuple[Path | None, str | None]:
    """The local run folder and the storage URL; ``--run-dir`` may be a URL."""
    from leadgen.storage import locate

    located = locate(run_dir) if run_dir else None
    if located is None or isinstance(located, Path):
        return located, storage
    if storage:
        raise UsageError(
            f"--run-dir {run_dir} and --storage {storage}: give the URL once, "
            "with --storage, and a local folder with --run-dir"
        )
    return None, str(located)


@main.command("merge")
@click.argument("run_dir")
@DB_OPTION
@friendly_errors
def merge_command(run_dir: str, db: Path) -> None:
    """Load RUN_DIR's checkpoints into the results database (idempotent).

    RUN_DIR is a run folder or the storage URL a run was given with --storage.
    """
    from leadgen.warehouse import merge_run

    logs.configure(quiet=True)
    result = merge_run(run_dir, db)
    click.echo(
        f"Merged run {result.run_name!r}: {result.regions} region(s), "
        f"{result.candidates} candidates, {result.companies} companies -> {db}"
    )


@main.command("query")
@click.argument("sql")
@DB_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@friendly_errors
def query_command(sql: str, db: Path, fmt: str) -> None:
    """Run read-only SQL on the results database; data goes to stdout.

    Tables: runs, region_results, candidates, companies. Views: region_quality,
    region_overlap, region_companies.
    """
    from leadgen.results import format_result, run_query

    click.echo(format_result(run_query(db, sql), fmt))  # type: ignore[arg-type]


@main.command("export")
@click.argument("run_name")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet", "json"]),
    default="csv",
    show_default=True,
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option(
    "--all",
    "include_ineligible",
    is_flag=True,
    help="Also export companies that do not meet the criteria.",
)
@DB_OPTION
@friendly_errors
def export_command(
    run_name: str, fmt: str, out: Path, include_ineligible: bool, db: Path
) -> None:
    """Write RUN_NAME's companies with CRM column names to --out."""
    from leadgen.results import export_run

    count = export_run(db, run_name, out, fmt, include_ineligible)  # type: ignore[arg-type]
    click.echo(f"Wrote {count} companies to {out}", err=True)


@main.command("dedup")
@click.argument("input_csv", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="FIELD=HEADER",
    help="Map a field (name, website, phone, street_address, city, state, "
    "postal_code) to your CSV's header, e.g. --column name=Account.",
)
@friendly_errors
def dedup_command(input_csv: Path, out: Path, columns: tuple[str, ...]) -> None:
    """Add a company_id column to INPUT_CSV so rows of one company share it."""
    from leadgen.dedup_csv import dedup_csv

    mapping = _column_map(columns)
    summary = dedup_csv(input_csv, out, mapping or None)
    click.echo(f"{summary.rows} rows, {summary.companies} companies -> {out}", err=True)


def _column_map(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        field, sep, header = pair.partition("=")
        if not sep or not field.strip() or not header.strip():
            raise UsageError(
                f"--column {pair!r}: expected FIELD=HEADER, e.g. name=Account"
            )
        mapping[field.strip()] = header.strip()
    return mapping


@main.command("regions")
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The PNG map (default: DATA_DIR/maps/<config name>-regions.png).",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("data"),
    show_default=True,
    help="Where maps are kept when --out is not given.",
)
@click.option("--no-map", is_flag=True, help="Print the plan only.")
@friendly_errors
def regions_command(
    config: Path, out: Path | None, data_dir: Path, no_map: bool
) -> None:
    """Print CONFIG's regions (places, ZIP codes, size) and map them as a PNG."""
    from leadgen.config import load_config
    from leadgen.geography import plan_text, region_grounds, state_places

    loaded = load_config(config)
    grounds = region_grounds(loaded.batch)
    click.echo(plan_text(loaded.batch, grounds))
    if no_map:
        return

    from leadgen.maps import write_region_map

    geography = loaded.batch.geography
    out = out or data_dir / "maps" / f"{loaded.name}-regions.png"
    title = f"{loaded.name}: {len(grounds)} regions of {geography.metro}"
    write_region_map(grounds, out, title, context=state_places(geography.state))
    click.echo(f"Map: {out}", err=True)


@main.command("report")
@click.argument("run_name")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The PNG (default: maps/<run>-report.png beside the database).",
)
@DB_OPTION
@friendly_errors
def report_command(run_name: str, out: Path | None, db: Path) -> None:
    """Chart RUN_NAME's companies per region beside a map of each region's yield.

    The region quality table goes to stdout; the picture to --out.
    """
    from leadgen.report import write_report
    from leadgen.summary import QUALITY_HEADER, quality_table_rows, render_table

    out = out or db.parent / "maps" / f"{run_name}-report.png"
    report = write_report(db, run_name, out)
    click.echo(render_table(QUALITY_HEADER, quality_table_rows(report.quality)))
    if not report.mapped:
        click.echo("The run folder is gone: the picture has no map.", err=True)
    click.echo(f"Report: {report.path}", err=True)
