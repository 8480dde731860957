"""Reading results back out: read-only SQL queries and CRM-ready exports."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import duckdb

from leadgen.errors import LeadgenError, UsageError
from leadgen.summary import render_table
from leadgen.warehouse import connect

QueryFormat = Literal["table", "csv", "json"]
ExportFormat = Literal["csv", "parquet", "json"]

EXPORT_COLUMNS = (
    ("Company Name", "name"),
    ("Website", "website"),
    ("Domain", "domain"),
    ("Phone", "phone"),
    ("Street", "street_address"),
    ("City", "city"),
    ("State", "state"),
    ("Postal Code", "postal_code"),
    ("Regions", "regions"),
    ("Discovery Source", "discovery_sources"),
    ("Meets Criteria", "meets_criteria"),
    ("Company ID", "company_id"),
)


class QueryError(LeadgenError):
    """The SQL given to ``leadgen query`` failed."""


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of a query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_query(db_path: Path, sql: str) -> QueryResult:
    """Run SQL against the database opened read-only: nothing can be changed."""
    with connect(db_path, read_only=True, sandbox=True) as con:
        try:
            cursor = con.execute(sql)
        except duckdb.Error as exc:
            raise QueryError(f"SQL: {_first_line(exc)}") from None
        if cursor.description is None:
            return QueryResult([], [])
        columns = [column[0] for column in cursor.description]
        return QueryResult(columns, cursor.fetchall())


def format_result(result: QueryResult, fmt: QueryFormat) -> str:
    """Render a query result as an aligned table, CSV or a JSON array."""
    if fmt == "json":
        records = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        return json.dumps(records, default=_json_value, ensure_ascii=False, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([_cell(value) for value in row] for row in result.rows)
        return buffer.getvalue().rstrip("\n")
    if not result.columns:
        return "(no result)"
    rows = [[_cell(value) for value in row] for row in result.rows]
    return render_table(result.columns, rows)


def export_run(
    db_path: Path,
    run_name: str,
    out: Path,
    fmt: ExportFormat,
    include_ineligible: bool = False,
) -> int:
    """Write a run's companies with CRM column names; returns the row count."""
    select = ", ".join(
        _export_expr(column, fmt) + f' AS "{label}"' for label, column in EXPORT_COLUMNS
    )
    where = f"run_name = {_literal(run_name)}"
    if not include_ineligible:
        where += " AND meets_criteria"
    query = f"SELECT {select} FROM companies WHERE {where} ORDER BY best_rank, name"

    with connect(db_path, read_only=True) as con:
        runs = [row[0] for row in con.execute("SELECT run_name FROM runs").fetchall()]
        if run_name not in runs:
            raise UsageError(
                f"{db_path}: no run named {run_name!r}; merged runs: "
                f"{', '.join(map(repr, runs)) or 'none'}"
            )
        count = int(con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0])
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "json":
            result = con.execute(query)
            columns = [column[0] for column in result.description or []]
            rows = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
            text = json.dumps(rows, default=_json_value, ensure_ascii=False, indent=2)
            out.write_text(text + "\n", encoding="utf-8")
        else:
            options = "FORMAT csv, HEADER" if fmt == "csv" else "FORMAT parquet"
            con.execute(f"COPY ({query}) TO {_literal(str(out))} ({options})")
    return count


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _export_expr(column: str, fmt: ExportFormat) -> str:
    if column in ("regions", "discovery_sources") and fmt == "csv":
        return f"array_to_string({column}, '; ')"
    return column


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(_cell(item) for item in value)
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
