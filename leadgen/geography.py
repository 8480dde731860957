"""Where a batch searches: automatic regions and places named in a config.

A config may leave the regions to leadgen (``geography.auto``: a centre, a
radius and a number of regions) or name places instead of ZIP codes
(``places:`` in a region). Both need the gazetteer, so they are resolved once,
when the config is loaded, into plain regions with names, areas and ZIP codes.
Everything after that (region specs, cache keys, the run manifest) sees only
those concrete regions, so a cache key covers the ZIP codes a region got.

Only ZIP codes of the config's state are used: the rest of leadgen bounds a
region by one state, so a metro that crosses a state line is covered on the
config's side of it only.
"""

from __future__ import annotations

import difflib
import math
import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import zipcodes

from leadgen import gazetteer
from leadgen.config import BatchConfig, Geography, RegionConfig, region_slug
from leadgen.errors import ConfigError
from leadgen.gazetteer import ZipPlace
from leadgen.partition import partition

EARTH_RADIUS_MILES = 3958.8
MILES_PER_DEGREE = math.pi * EARTH_RADIUS_MILES / 180

_ZIP5 = re.compile(r"\d{5}")
_WITH_STATE = re.compile(r"^(?P<name>.+?),\s*(?P<state>[A-Za-z]{2})$")
_COMPASS = (
    "East",
    "Northeast",
    "North",
    "Northwest",
    "West",
    "Southwest",
    "South",
    "Southeast",
)


class GeographyError(ConfigError):
    """A place the gazetteer does not know, or ground too small for the regions.

    Attributes:
        field: Dotted path of the config field at fault, e.g.
            ``geography.auto.center``.
        reason: What is wrong and what to do, without the field.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class RegionGround:
    """The ZIP codes a region covers and the places they belong to.

    Attributes:
        name: The region's name.
        places: Place names with how many of the region's ZIP codes carry
            each, most first.
        zip_places: The region's ZIP codes known to the gazetteer, in order.
    """

    name: str
    places: tuple[tuple[str, int], ...]
    zip_places: tuple[ZipPlace, ...]

    @property
    def zip_codes(self) -> tuple[str, ...]:
        return tuple(place.zip_code for place in self.zip_places)


def resolve_geography(batch: BatchConfig) -> BatchConfig:
    """Return the config with automatic regions drawn and places resolved.

    A config with neither is returned as it is, without loading the
    gazetteer. The result has only explicit regions, each with ZIP codes,
    so re-validating its dump (as a run manifest does) needs no gazetteer.

    Raises:
        GeographyError: For an unknown centre or place, or a circle holding
            fewer ZIP codes than the regions asked for.
    """
    geography = batch.geography
    if geography.auto is not None:
        regions = auto_regions(geography)
    elif any(region.places for region in geography.regions):
        regions = [
            resolve_places(region, geography.state, f"geography.regions[{number}]")
            for number, region in enumerate(geography.regions)
        ]
    else:
        return batch

    data = batch.model_dump(mode="json")
    data["geography"]["auto"] = None
    data["geography"]["regions"] = [
        region.model_dump(mode="json") for region in regions
    ]
    return BatchConfig.model_validate(data)


def auto_regions(geography: Geography) -> list[RegionConfig]:
    """Split the ZIP codes within the circle into the asked number of regions.

    Regions come north to south; each is named after its main places and its
    areas are the places lying wholly inside it (a place split between
    regions would widen each region to all of it).
    """
    assert geography.auto is not None
    auto, state = geography.auto, geography.state
    lat, long = resolve_center(auto.center, state)
    inside = [
        place
        for place in state_places(state)
        if miles_between(lat, long, place.lat, place.long) <= auto.radius_miles
    ]
    if len(inside) < auto.regions:
        raise GeographyError(
            "geography.auto.regions",
            f"only {len(inside)} ZIP code(s) of {state} lie within "
            f"{auto.radius_miles:g} miles of {auto.center}; ask for at most "
            f"{max(len(inside), 1)} region(s) or widen radius_miles",
        )

    points = [project(place, lat, long) for place in inside]
    labels = partition(points, auto.regions)
    groups: list[list[ZipPlace]] = [[] for _ in range(auto.regions)]
    for place, label in zip(inside, labels, strict=True):
        groups[label].append(place)
    groups.sort(key=lambda group: (-_mean(p.lat for p in group), group[0].zip_code))

    names = region_names(groups, lat, long)
    return [
        RegionConfig(
            name=name,
            areas=_places_within(group, state),
            zip_codes=[place.zip_code for place in group],
        )
        for name, group in zip(names, groups, strict=True)
    ]


def resolve_places(region: RegionConfig, state: str, field: str) -> RegionConfig:
    """Replace a region's places by their ZIP codes, keeping their names as areas.

    Raises:
        GeographyError: For a place unknown in ``state``, naming the closest
            known names.
    """
    if not region.places:
        return region
    names, zips = [], set(region.zip_codes)
    for number, text in enumerate(region.places):
        name, found = place_zip_codes(text, state, f"{field}.places[{number}]")
        names.append(name)
        zips.update(place.zip_code for place in found)
    return RegionConfig(
        name=region.name,
        areas=list(dict.fromkeys([*names, *region.areas])),
        zip_codes=sorted(zips),
    )


def place_zip_codes(
    text: str, state: str, field: str
) -> tuple[str, tuple[ZipPlace, ...]]:
    """The gazetteer's spelling of a place in ``state`` and its ZIP codes.

    A place is any postal or acceptable city name of a ZIP code, so a suburb
    USPS files under its neighbour is found by its own name. ``"Name, ST"`` is
    accepted when ST is ``state``.

    Raises:
        GeographyError: For another state or an unknown name.
    """
    name = text.strip()
    with_state = _WITH_STATE.match(name)
    if with_state:
        name = with_state["name"].strip()
        if with_state["state"].upper() != state:
            raise GeographyError(
                field,
                f"{text!r} is not in {state}; a config's places must lie in its "
                "state (geography.state)",
            )

    found = places_called(name, state)
    if not found:
        raise GeographyError(field, _unknown_place(name, state))
    spelled = next(
        known
        for known in _names_of(found[0], keep_abbreviations=True)
        if known.casefold() == name.casefold()
    )
    return spelled, found


def resolve_center(text: str, state: str) -> tuple[float, float]:
    """Latitude and longitude of a ZIP code or a place such as ``Phoenix, AZ``.

    A place's centre is the mean of the centres of the ZIP codes USPS files
    under its name (or, for a suburb filed under a neighbour, of those that
    accept its name). A bare name is looked up in ``state``.

    Raises:
        GeographyError: For an unknown ZIP code or place.
    """
    field = "geography.auto.center"
    text = text.strip()
    if _ZIP5.fullmatch(text):
        place = _lookup(text, state)
        if place is None:
            raise GeographyError(
                field,
                f"{text} is not an active ZIP code with street addresses; give "
                "another ZIP code or a place such as 'Phoenix, AZ'",
            )
        return place.lat, place.long

    name, where = text, state
    with_state = _WITH_STATE.match(text)
    if with_state:
        name, where = with_state["name"], with_state["state"].upper()
    found = places_called(name, where)
    if not found:
        raise GeographyError(field, _unknown_place(name.strip(), where))
    filed = [p for p in found if p.city.casefold() == name.strip().casefold()]
    chosen = filed or found
    return _mean(p.lat for p in chosen), _mean(p.long for p in chosen)


def region_grounds(batch: BatchConfig) -> list[RegionGround]:
    """The ZIP codes and places of each concrete region of a loaded config.

    A region covers its ZIP codes and every ZIP code of its areas that the
    gazetteer knows in the config's state: the ground its offline directory
    search and its bounds check use. Neighbourhood names unknown to the
    gazetteer add nothing.
    """
    state = batch.geography.state
    grounds = []
    for region in batch.regions:
        codes = set(region.zip_codes)
        for area in region.areas:
            codes.update(place.zip_code for place in _places_of_area(area, state))
        known = (_lookup(code, state) for code in sorted(codes))
        zip_places = tuple(place for place in known if place is not None)
        counts = Counter(name for p in zip_places for name in _names_of(p))
        places = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        grounds.append(RegionGround(region.name, places, zip_places))
    return grounds


def plan_text(batch: BatchConfig, grounds: Sequence[RegionGround]) -> str:
    """The plan as text: a headline, then each region's size, places and ZIPs.

    The headline counts ZIP codes that lie in more than one region: explicit
    regions overlap when a ZIP code accepts the names of places in two of them.
    """
    geography = batch.geography
    sizes = [len(ground.zip_places) for ground in grounds]
    owners = Counter(code for ground in grounds for code in set(ground.zip_codes))
    shared = sum(1 for count in owners.values() if count > 1)
    headline = (
        f"{geography.metro}, {geography.state}: {len(grounds)} region(s), "
        f"{len(owners)} ZIP code(s), {min(sizes, default=0)}-{max(sizes, default=0)} "
        "per region"
    )
    lines = [headline + (f", {shared} in more than one region" if shared else "")]
    for ground in grounds:
        places = [f"{name} ({count})" for name, count in ground.places]
        lines += [
            "",
            f"{ground.name}: {len(ground.zip_places)} ZIP code(s)",
            *_wrapped("places: ", places or ["(none known)"], ", "),
            *_wrapped("ZIP codes: ", list(ground.zip_codes) or ["(none known)"], " "),
        ]
    return "\n".join(lines)


def _wrapped(label: str, items: Sequence[str], separator: str) -> list[str]:
    """Indented lines of at most 88 characters that never split an item."""
    # textwrap breaks only at ASCII whitespace; a no-break space holds
    # "New River (1)" together.
    glued = [item.replace(" ", "\u00a0") for item in items]
    lines = textwrap.wrap(
        label + separator.join(glued), 88, initial_indent="  ", subsequent_indent="    "
    )
    return [line.replace("\u00a0", " ") for line in lines]


def region_names(
    groups: Sequence[Sequence[ZipPlace]], lat: float, long: float
) -> list[str]:
    """Name each group after its one or two most characteristic places.

    A place scores its count in the group times the share of all its ZIP
    codes that fall in the group, so a big city found everywhere names only
    the groups at its heart and a suburb names the group that holds it.
    Names whose slugs repeat get a compass word, then a number.
    """
    counts = [Counter(name for p in group for name in _names_of(p)) for group in groups]
    totals: Counter[str] = Counter()
    for count in counts:
        totals.update(count)

    names = []
    for count in counts:
        ranked = sorted(
            count, key=lambda n: (-(count[n] ** 2) / totals[n], -count[n], n)
        )
        first = ranked[0]
        best = count[first] ** 2 / totals[first]
        second = [n for n in ranked[1:2] if count[n] ** 2 / totals[n] >= best / 2]
        names.append(" & ".join([first, *second]))

    centres = [project_mean(group, lat, long) for group in groups]
    return _unique(names, centres)


@lru_cache(maxsize=64)
def state_places(state: str) -> tuple[ZipPlace, ...]:
    """Every active STANDARD ZIP code of a state, in ZIP code order.

    Built from the package's state filter rather than ``gazetteer.lookup``:
    a config that names only places of its state then never pays for the
    national index (a quarter of a second), and keeps ``leadgen regions``
    quick. The fields are read as the gazetteer reads them.
    """
    found = zipcodes.filter_by(  # type: ignore[no-untyped-call]
        state=state, active=True, zip_code_type="STANDARD"
    )
    places = [
        ZipPlace(
            zip_code=str(record["zip_code"]),
            city=str(record["city"]),
            state=str(record["state"]),
            lat=float(record["lat"]),
            long=float(record["long"]),
            area_codes=tuple(str(code) for code in record.get("area_codes") or ()),
            acceptable_cities=tuple(
                str(city) for city in record.get("acceptable_cities") or ()
            ),
        )
        for record in found
    ]
    return tuple(sorted(places, key=lambda place: place.zip_code))


def places_called(name: str, state: str) -> tuple[ZipPlace, ...]:
    """ZIP codes of ``state`` whose postal or acceptable city is ``name``.

    The same match as ``gazetteer.places_named`` (any case, surrounding
    spaces ignored) within one state, in ZIP code order.
    """
    codes = _state_name_index(state).get(name.strip().casefold(), frozenset())
    by_code = _state_by_code(state)
    return tuple(by_code[code] for code in sorted(codes))


def _lookup(zip_code: str, state: str) -> ZipPlace | None:
    """A ZIP code's place, from the state's own index when it is there."""
    return _state_by_code(state).get(zip_code) or gazetteer.lookup(zip_code)


def _places_of_area(area: str, state: str) -> tuple[ZipPlace, ...]:
    # As the bounds check reads an area: "Name" or "Name, ST", within state.
    with_state = _WITH_STATE.match(area.strip())
    if with_state is None:
        return places_called(area, state)
    if with_state["state"].upper() != state:
        return ()
    return places_called(with_state["name"], state)


@lru_cache(maxsize=64)
def _state_by_code(state: str) -> dict[str, ZipPlace]:
    return {place.zip_code: place for place in state_places(state)}


def miles_between(
    lat: float, long: float, other_lat: float, other_long: float
) -> float:
    """Great-circle distance in miles (haversine)."""
    north = math.radians(other_lat - lat)
    east = math.radians(other_long - long)
    half = (
        math.sin(north / 2) ** 2
        + math.cos(math.radians(lat))
        * math.cos(math.radians(other_lat))
        * math.sin(east / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(half)))


def project(place: ZipPlace, lat: float, long: float) -> tuple[float, float]:
    """Miles east and north of (lat, long): flat enough within a few hundred."""
    shrink = math.cos(math.radians(lat))
    return (
        (place.long - long) * MILES_PER_DEGREE * shrink,
        (place.lat - lat) * MILES_PER_DEGREE,
    )


def project_mean(
    places: Iterable[ZipPlace], lat: float, long: float
) -> tuple[float, float]:
    """The mean position of some places, in miles east and north of (lat, long)."""
    points = [project(place, lat, long) for place in places]
    return _mean(x for x, _ in points), _mean(y for _, y in points)


def _unique(names: list[str], centres: Sequence[tuple[float, float]]) -> list[str]:
    """Tell repeated names apart by compass direction, then by number."""
    by_slug: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        by_slug.setdefault(region_slug(name), []).append(index)

    named = list(names)
    for indices in by_slug.values():
        if len(indices) == 1:
            continue
        middle = (
            _mean(centres[i][0] for i in indices),
            _mean(centres[i][1] for i in indices),
        )
        spread = _mean(math.dist(centres[i], middle) for i in indices)
        for index in indices:
            named[index] = (
                f"{_direction(centres[index], middle, spread)} {names[index]}"
            )

    taken: Counter[str] = Counter()
    unique = []
    for name in named:
        candidate, number = name, 1
        while region_slug(candidate) in taken:
            number += 1
            candidate = f"{name} {number}"
        taken[region_slug(candidate)] += 1
        unique.append(candidate)
    return unique


def _direction(
    centre: tuple[float, float], middle: tuple[float, float], spread: float
) -> str:
    east, north = centre[0] - middle[0], centre[1] - middle[1]
    if math.hypot(east, north) < spread / 3:
        return "Central"
    sector = round(math.degrees(math.atan2(north, east)) / 45) % 8
    return _COMPASS[sector]


def _places_within(group: Sequence[ZipPlace], state: str) -> list[str]:
    """Places of the group whose every ZIP code in the state is in the group."""
    codes = {place.zip_code for place in group}
    counts = Counter(name for place in group for name in _names_of(place))
    index = _state_name_index(state)
    return [
        name
        for name, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        if index[name.casefold()] <= codes
    ]


@lru_cache(maxsize=64)
def _state_name_index(state: str) -> dict[str, frozenset[str]]:
    """Every place name of a state (case-folded) with its ZIP codes."""
    index: dict[str, set[str]] = {}
    for place in state_places(state):
        for name in _names_of(place, keep_abbreviations=True):
            index.setdefault(name.casefold(), set()).add(place.zip_code)
    return {name: frozenset(codes) for name, codes in index.items()}


def _unknown_place(name: str, state: str) -> str:
    known = {key: _spelling(key, state) for key in _state_name_index(state)}
    close = difflib.get_close_matches(name.casefold(), list(known), n=3, cutoff=0.6)
    if not close:
        return f"no place called {name!r} in {state}; check the spelling and the state"
    hint = ", ".join(repr(known[key]) for key in close)
    return f"no place called {name!r} in {state}; did you mean {hint}?"


def _spelling(key: str, state: str) -> str:
    """The gazetteer's own spelling of a case-folded place name."""
    place = _state_by_code(state)[min(_state_name_index(state)[key])]
    return next(
        name
        for name in _names_of(place, keep_abbreviations=True)
        if name.casefold() == key
    )


def _names_of(place: ZipPlace, keep_abbreviations: bool = False) -> list[str]:
    """A ZIP code's postal city and acceptable names, without postal shorthand.

    USPS accepts "Greenwood Vlg" beside "Greenwood Village" and "Cty Of
    Cmmrce" beside "City Of Commerce"; such shorthand is dropped unless asked
    for, since it would name regions and areas badly.
    """
    names = list(dict.fromkeys([place.city, *place.acceptable_cities]))
    if keep_abbreviations:
        return names
    shorthand = _shorthands(place.state)
    return [name for name in names if name.casefold() not in shorthand]


@lru_cache(maxsize=64)
def _shorthands(state: str) -> frozenset[str]:
    """Case-folded names of a state that USPS lists as shorthand of another.

    A name is shorthand when some ZIP code lists it beside the name it
    shortens: letter matching alone would also pair real places ("Santa
    Clara" and "Santa Clarita"), which never share a ZIP code.
    """
    found: set[str] = set()
    for place in state_places(state):
        names = {name.casefold() for name in (place.city, *place.acceptable_cities)}
        found.update(
            short
            for short in names
            if any(_abbreviates(short, full) for full in names if full != short)
        )
    return frozenset(found)


def _abbreviates(short: str, full: str) -> bool:
    """Whether ``short`` could shorten ``full`` (both case-folded).

    Word by word, each word of ``short`` equals or shortens the same word of
    ``full`` ("colo spgs" of "colorado springs", "city industry" of "city of
    industry"). A plain prefix alone is no evidence: "avon" is a town of its
    own beside "avondale", so one word at least must drop inner letters.
    """
    short_words, full_words = _words(short), _words(full)
    if len(short_words) != len(full_words) or len(short) >= len(full):
        return False
    pairs = list(zip(short_words, full_words, strict=True))
    if not all(_shortens(s, f) for s, f in pairs):
        return False
    dropped_filler = len(short.split()) < len(full.split())
    return dropped_filler or any(not f.startswith(s) for s, f in pairs)


def _words(name: str) -> list[str]:
    return [word for word in name.split() if word not in ("of", "the")]


def _shortens(short: str, full: str) -> bool:
    # "vlg" of "village", "colo" of "colorado": the same first letter, then
    # the rest in order.
    if short[0] != full[0]:
        return False
    letters = iter(full)
    return all(letter in letters for letter in short)


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items)
