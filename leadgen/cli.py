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
from leadgen.errors import LeadgenError

F = TypeVar("F", bound=Callable[..., Any])


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
    "--workers", type=click.IntRange(1, 256), help="Regions in flight at once."
)
@click.option("--only", multiple=True, metavar="REGION", help="Run just this region.")
@click.option("--fresh", is_flag=True, help="Start over; the old run folder is kept.")
@click.option(
    "--run-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Run folder (default: DATA_DIR/runs/<config name>).",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("data"),
    show_default=True,
    help="Where runs are kept.",
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
@click.option("-v", "--verbose", is_flag=True, help="Log detail at DEBUG.")
@click.option("-q", "--quiet", is_flag=True, help="Log warnings and errors only.")
@friendly_errors
def run_command(
    config: Path,
    workers: int | None,
    only: tuple[str, ...],
    fresh: bool,
    run_dir: Path | None,
    data_dir: Path,
    simulate_latency: float,
    grace: float,
    verbose: bool,
    quiet: bool,
) -> None:
    """Run or resume the batch described by CONFIG."""
    from leadgen.config import load_config
    from leadgen.runner import RunOptions, run_batch
    from leadgen.summary import print_summary

    logs.configure(verbose=verbose, quiet=quiet)
    loaded = load_config(config)
    options = RunOptions(
        data_dir=data_dir,
        run_dir=run_dir,
        workers=workers,
        only=only,
        fresh=fresh,
        simulate_latency=simulate_latency,
        verbose=verbose,
        grace_seconds=grace,
    )
    summary = run_batch(loaded, options)
    print_summary(summary)
    sys.exit(summary.exit_code)


main.add_command(run_command)
