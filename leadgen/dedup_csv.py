"""Deduplicate a CSV of business records a user already has.

The same engine as a run's merge, for a CRM export or another vendor's list:
every row is kept as it is, with a ``company_id`` column added so that rows
of one company share an id.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from leadgen.dedup import FIELDS, Record, cluster
from leadgen.errors import LeadgenError


@dataclass(frozen=True)
class DedupSummary:
    """What :func:`dedup_csv` did: data rows read and companies found."""

    rows: int
    companies: int


class DedupInputError(LeadgenError):
    """An input file cannot be deduplicated as it stands (columns, encoding)."""

    exit_code = 2


# Header spellings recognised for each field, after lowercasing and turning
# underscores, dashes, dots and slashes into spaces.
_HEADERS: dict[str, tuple[str, ...]] = {
    "name": (
        "name", "company", "company name", "business name", "business",
        "organization", "organisation", "organization name", "firm", "firm name",
        "account name", "legal name", "dba",
    ),
    "website": (
        "website", "web site", "url", "domain", "homepage", "home page", "site",
        "web", "website url", "web address", "company website", "company url",
    ),
    "phone": (
        "phone", "phone number", "telephone", "telephone number", "tel",
        "main phone", "office phone", "phone no", "contact phone", "company phone",
    ),
    "street_address": (
        "street address", "address", "street", "address 1", "address1",
        "address line 1", "street 1", "street1", "addr", "office address",
    ),
    "city": ("city", "town", "locality", "municipality"),
    "state": ("state", "state code", "province", "state province"),
    "postal_code": (
        "postal code", "zip", "zip code", "zipcode", "postcode", "zip5", "postal",
    ),
}  # fmt: skip


def dedup_csv(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    columns: Mapping[str, str] | None = None,
) -> DedupSummary:
    """Add a company id to every row of a CSV of business records.

    Reads a UTF-8 CSV (a byte-order mark is fine), finds the name, website,
    phone, address, city, state and ZIP columns by common header names (case and
    punctuation ignored) or by ``columns``, which maps field names from
    :data:`FIELDS` to the file's own headers. Every row is written unchanged, in
    order, with one more column, ``company_id`` (``leadgen_company_id`` if the
    file already has a ``company_id``). Rows with every cell empty get no id and
    are not counted. The output is written to a temporary file and moved into
    place, so ``output_path`` may be ``input_path``.

    Raises:
        DedupInputError: The file is not UTF-8, has no header, a row has more
            cells than the header, ``columns`` names an unknown field or header,
            or there is no name, website or phone column.
    """
    source = Path(input_path)
    header, fields = _read_header(source, columns)

    records = [
        Record(key=str(number), **values)
        for number, values in _read_records(source, header, fields)
    ]
    clusters = cluster(records)
    company_of = {key: found.company_id for found in clusters for key in found.keys}

    id_column = "company_id"
    if any(name.strip().lower() == "company_id" for name in header):
        id_column = "leadgen_company_id"
    _write_with_ids(source, Path(output_path), [*header, id_column], company_of)
    return DedupSummary(rows=len(records), companies=len(clusters))


def _read_header(
    source: Path, columns: Mapping[str, str] | None
) -> tuple[list[str], dict[str, int]]:
    with _open_csv(source) as handle:
        try:
            header = next(csv.reader(handle), None)
        except UnicodeDecodeError as error:
            raise DedupInputError(
                f"{source}: not UTF-8 text ({error.reason})"
            ) from None
        except csv.Error as error:
            raise DedupInputError(f"{source}: not a readable CSV ({error})") from None
    if not header or not any(cell.strip() for cell in header):
        raise DedupInputError(f"{source}: the file is empty; expected a header row")

    fields = _match_columns(source, header, columns or {})
    if not {"name", "website", "phone"} & fields.keys():
        first = header[0].strip()
        raise DedupInputError(
            f"{source}: no name, website or phone column among {header}; "
            "rename a header to name, website or phone, or map one to a field: "
            f"columns={{'name': {first!r}}} (--column name={first} in the CLI)"
        )
    return header, fields


def _match_columns(
    source: Path, header: list[str], columns: Mapping[str, str]
) -> dict[str, int]:
    position: dict[str, int] = {}
    for index, name in enumerate(header):
        position.setdefault(_header_key(name), index)

    fields: dict[str, int] = {}
    for field, name in columns.items():
        if field not in FIELDS:
            raise DedupInputError(
                f"{source}: cannot map unknown field {field!r}; "
                f"fields are {list(FIELDS)}"
            )
        if _header_key(name) not in position:
            raise DedupInputError(
                f"{source}: no column {name!r} for {field}; columns are {header}"
            )
        fields[field] = position[_header_key(name)]

    taken = set(fields.values())
    for field, synonyms in _HEADERS.items():
        if field in fields:
            continue
        found = next((position[s] for s in synonyms if s in position), None)
        if found is not None and found not in taken:
            fields[field] = found
            taken.add(found)
    return fields


def _header_key(name: str) -> str:
    for separator in "_-./":
        name = name.replace(separator, " ")
    return " ".join(name.lower().split())


def _read_records(
    source: Path, header: list[str], fields: Mapping[str, int]
) -> Iterator[tuple[int, dict[str, str | None]]]:
    with _open_csv(source) as handle:
        rows = csv.reader(handle)
        next(rows)
        try:
            for number, row in enumerate(rows, start=1):
                if len(row) > len(header):
                    raise DedupInputError(
                        f"{source}: data row {number} has {len(row)} cells but the "
                        f"header has {len(header)}; quote cells that contain commas"
                    )
                if any(cell.strip() for cell in row):
                    yield (
                        number,
                        {
                            field: row[i] if i < len(row) and row[i].strip() else None
                            for field, i in fields.items()
                        },
                    )
        except UnicodeDecodeError as error:
            raise DedupInputError(
                f"{source}: not UTF-8 text ({error.reason})"
            ) from None
        except csv.Error as error:
            raise DedupInputError(
                f"{source}: not a readable CSV near data row {rows.line_num - 1} "
                f"({error})"
            ) from None


def _write_with_ids(
    source: Path, target: Path, header: list[str], company_of: Mapping[str, str]
) -> None:
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        # mkstemp makes the file private; give it the mode a plain write would.
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(temporary, mode)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            with _open_csv(source) as reader_handle:
                rows = csv.reader(reader_handle)
                next(rows)
                for number, row in enumerate(rows, start=1):
                    padded = row + [""] * (len(header) - 1 - len(row))
                    writer.writerow([*padded, company_of.get(str(number), "")])
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _open_csv(source: Path) -> TextIO:
    try:
        return source.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise DedupInputError(f"{source}: cannot read ({error.strerror})") from None
