"""Cached lookups in the US ZIP code gazetteer shipped with ``zipcodes``.

The package holds its data as one large document that takes about half a second
to load, so it is read once per process, on the first lookup, and indexed three
ways: by ZIP code, by city name (postal and acceptable names alike, because USPS
files many suburbs under a neighbouring city), and by a coarse grid cell for
neighbourhood queries. Only active STANDARD ZIP codes are kept: PO box, unique
and military codes have no street addresses for businesses to sit on.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import zipcodes

#: Edge of a grid cell in degrees of latitude and longitude (about 17 miles of
#: latitude): coarse enough that a metro spans only a handful of cells.
CELL_DEGREES = 0.25

#: A grid cell, as (latitude index, longitude index) of its south-west corner.
Cell = tuple[int, int]

_ZIP5 = re.compile(r"\d{5}")
_CITY_STATE = re.compile(r"^(?P<city>.+?),\s*(?P<state>[A-Za-z]{2})$")


@dataclass(frozen=True)
class ZipPlace:
    """One active STANDARD ZIP code and the place it belongs to.

    Attributes:
        zip_code: Five-digit ZIP code.
        city: USPS postal city name (a suburb may be filed under its neighbour).
        state: Two-letter state code.
        lat: Latitude of the ZIP's centre in degrees.
        long: Longitude of the ZIP's centre in degrees.
        area_codes: Telephone area codes serving the ZIP; may be empty.
        acceptable_cities: Other city names USPS accepts for the ZIP.
    """

    zip_code: str
    city: str
    state: str
    lat: float
    long: float
    area_codes: tuple[str, ...]
    acceptable_cities: tuple[str, ...]

    @property
    def cell(self) -> Cell:
        """The grid cell that contains this ZIP's centre."""
        return cell_of(self.lat, self.long)


@dataclass(frozen=True)
class _Index:
    # Raw records and ZIP codes only: a ZipPlace is built when first asked for,
    # since building all thirty thousand would double the cost of loading.
    records: dict[str, dict[str, Any]]
    by_name: dict[str, tuple[str, ...]]
    by_cell: dict[Cell, tuple[str, ...]]


def cell_of(lat: float, long: float) -> Cell:
    """Return the grid cell containing a point, so nearby places share a key."""
    return (math.floor(lat / CELL_DEGREES), math.floor(long / CELL_DEGREES))


def lookup(zip_code: str) -> ZipPlace | None:
    """Return the place of an active STANDARD ZIP code, or None for any other.

    Accepts ``"80202"``, ``" 80202 "`` and ZIP+4 forms like ``"80202-1234"``;
    anything that is not a known active STANDARD ZIP gives None rather than an
    error, because callers pass through whatever a user or a model wrote.
    """
    text = zip_code.strip().split("-", 1)[0]
    if not _ZIP5.fullmatch(text) or text not in _index().records:
        return None
    return _place(text)


def places_named(name: str) -> tuple[ZipPlace, ...]:
    """Return the places whose postal or acceptable city name is ``name``.

    Matching ignores case and surrounding spaces. ``"Lakewood, CO"`` limits the
    match to one state; a bare ``"Lakewood"`` matches every state that has one.
    Unknown names give an empty tuple. Places come in ZIP code order.
    """
    text, state = name.strip(), ""
    with_state = _CITY_STATE.match(text)
    if with_state:
        text, state = with_state["city"].strip(), with_state["state"].upper()

    places = tuple(map(_place, _index().by_name.get(text.casefold(), ())))
    if not state:
        return places
    return tuple(place for place in places if place.state == state)


@lru_cache(maxsize=8192)
def places_in_cell(cell: Cell) -> tuple[ZipPlace, ...]:
    """Return the places whose centre lies in ``cell``, in ZIP code order."""
    return tuple(map(_place, _index().by_cell.get(cell, ())))


def nearest(place: ZipPlace, count: int) -> list[ZipPlace]:
    """Return up to ``count`` other places nearest ``place``, nearest first.

    Only the place's cell and the eight around it are searched: enough for the
    few nearest places anywhere but in the emptiest country.
    """
    shrink = math.cos(math.radians(place.lat))

    def key(other: ZipPlace) -> tuple[float, str]:
        north, east = other.lat - place.lat, (other.long - place.long) * shrink
        return (north * north + east * east, other.zip_code)

    others = (o for o in _neighbourhood(place.cell) if o.zip_code != place.zip_code)
    return heapq.nsmallest(count, others, key=key)


def distance(one: ZipPlace, other: ZipPlace) -> float:
    """Return a measure that ranks places by distance, cheaply.

    It is the squared distance in degrees of latitude, exact enough at the
    scale of a metro, and much cheaper than a great-circle distance.
    """
    # A degree of longitude shrinks away from the equator.
    shrink = math.cos(math.radians(one.lat))
    north, east = other.lat - one.lat, (other.long - one.long) * shrink
    return north * north + east * east


def area_codes(place: ZipPlace) -> tuple[str, ...]:
    """Return the place's telephone area codes, or a neighbour's if it has none.

    A few ZIPs have no area code on file; the codes of another place in the
    same cell are the likeliest. Empty only if no place of the cell has any.
    """
    if place.area_codes:
        return place.area_codes
    for other in places_in_cell(place.cell):
        if other.area_codes:
            return other.area_codes
    return ()


@lru_cache(maxsize=4096)
def _neighbourhood(cell: Cell) -> tuple[ZipPlace, ...]:
    lat_index, long_index = cell
    return tuple(
        place
        for step_lat, step_long in itertools.product((-1, 0, 1), repeat=2)
        for place in places_in_cell((lat_index + step_lat, long_index + step_long))
    )


@lru_cache(maxsize=1)
def _index() -> _Index:
    # Filtering in the package's compiled core spares a Python dict for each
    # of the thousands of codes that would be dropped anyway. The package's
    # Python wrapper has no annotations, only its core does.
    found = zipcodes.filter_by(  # type: ignore[no-untyped-call]
        active=True, zip_code_type="STANDARD"
    )
    records = {str(record["zip_code"]): record for record in found}

    by_name: defaultdict[str, list[str]] = defaultdict(list)
    by_cell: defaultdict[Cell, list[str]] = defaultdict(list)
    for zip_code in sorted(records):
        record = records[zip_code]
        by_cell[cell_of(float(record["lat"]), float(record["long"]))].append(zip_code)
        names = {record["city"], *(record.get("acceptable_cities") or ())}
        for name in {str(name).casefold() for name in names}:
            by_name[name].append(zip_code)

    return _Index(
        records=records,
        by_name={name: tuple(codes) for name, codes in by_name.items()},
        by_cell={cell: tuple(codes) for cell, codes in by_cell.items()},
    )


@lru_cache(maxsize=65536)
def _place(zip_code: str) -> ZipPlace:
    record = _index().records[zip_code]
    return ZipPlace(
        zip_code=zip_code,
        city=str(record["city"]),
        state=str(record["state"]),
        lat=float(record["lat"]),
        long=float(record["long"]),
        area_codes=tuple(str(code) for code in record.get("area_codes") or ()),
        acceptable_cities=tuple(
            str(city) for city in record.get("acceptable_cities") or ()
        ),
    )
