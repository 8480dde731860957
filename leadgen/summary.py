"""The table printed at the end of a run."""

from __future__ import annotations

from typing import Any

import click

from leadgen.runner import RunSummary

QUALITY_HEADER = [
    "Region",
    "Status",
    "Attempts",
    "Seconds",
    "Tokens",
    "Candidates",
    "Valid",
    "Dropped",
    "Companies",
    "Only here",
    "Shared",
    "Share",
]


def summary_rows(summary: RunSummary) -> list[list[str]]:
    """One row per region: name, status, companies, attempts, seconds, tokens."""
    rows = []
    for record in summary.records:
        rows.append(
            [
                record.region,
                record.status,
                "" if record.companies is None else str(record.companies),
                str(record.attempts),
                "" if record.seconds is None else f"{record.seconds:.1f}",
                f"{record.usage.get('total_tokens', 0):,}",
            ]
        )
    return rows


def render_table(header: list[str], rows: list[list[str]]) -> str:
    """Plain text table: first column left-aligned, the rest right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [cells[0].ljust(widths[0])]
        parts += [
            cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def quality_table_rows(quality: list[dict[str, Any]]) -> list[list[str]]:
    """Rows of the quality table (from ``region_quality``) plus a totals row."""
    rows = []
    for q in quality:
        rows.append(
            [
                q["region"],
                str(q["status"]),
                str(q["attempts"]),
                "" if q["seconds"] is None else f"{q['seconds']:.1f}",
                f"{q['tokens'] or 0:,}",
                str(q["candidates"]),
                str(q["valid"]),
                str(q["dropped"] + q["duplicates_in_region"]),
                str(q["companies"]),
                str(q["unique_companies"]),
                str(q["shared_companies"]),
                f"{q['share_of_final'] or 0:.0%}",
            ]
        )
    total_companies = quality[0]["run_companies"] if quality else 0
    rows.append(
        [
            "Total",
            "",
            str(sum(q["attempts"] or 0 for q in quality)),
            f"{sum(q['seconds'] or 0 for q in quality):.1f}",
            f"{sum(q['tokens'] or 0 for q in quality):,}",
            str(sum(q["candidates"] for q in quality)),
            str(sum(q["valid"] for q in quality)),
            str(sum(q["dropped"] + q["duplicates_in_region"] for q in quality)),
            str(total_companies),
            "",
            "",
            "",
        ]
    )
    return rows


def print_summary(
    summary: RunSummary, quality: list[dict[str, Any]] | None = None
) -> None:
    """Print the region table and a closing line to stdout.

    With ``quality`` (rows of ``region_quality`` after a merge) the table shows
    what each region contributed to the deduplicated list; "Total companies"
    counts each company once, however many regions found it.
    """
    if quality:
        click.echo(render_table(QUALITY_HEADER, quality_table_rows(quality)))
    else:
        header = ["Region", "Status", "Companies", "Attempts", "Seconds", "Tokens"]
        click.echo(render_table(header, summary_rows(summary)))

    failed = [r for r in summary.records if not r.succeeded]
    total = len(summary.records)
    click.echo(
        f"\n{total} region(s): {summary.succeeded} succeeded "
        f"({summary.skipped} skipped as already done), {len(failed)} not done. "
        f"Run folder: {summary.run_dir}"
    )
    if summary.storage is not None and summary.storage != summary.run_dir:
        click.echo(f"Checkpoints and run.json: {summary.storage}")
    if summary.moved_aside is not None:
        click.echo(f"The previous run folder was kept as {summary.moved_aside}")
    for record in failed:
        reason = f": {record.error}" if record.error else ""
        click.echo(f"  {record.region}: {record.status}{reason}", err=True)
    if summary.exit_code == 3:
        click.echo(
            f"Only {summary.success_share:.0%} of regions succeeded; "
            f"{summary.min_success_share:.0%} required. Rerun the same command to "
            "retry the failed regions.",
            err=True,
        )
    elif summary.exit_code == 130:
        click.echo("Interrupted. Rerun the same command to finish the run.", err=True)
