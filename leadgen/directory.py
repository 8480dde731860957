"""A built-in directory of fictional businesses for offline runs.

The offline stand-in model answers its searches from here, so the pipeline runs
with no key and no network. Listings are invented on demand from a ZIP code's
gazetteer entry and digests of stable keys: the same ZIP gives the same listings
in every process, and no data file ships with the package.

The data is as untidy as what real search agents bring back. Local firms are
listed once; metro firms have branches in several neighbouring ZIP codes, and
each branch listing writes the firm's name, website and phone its own way. Some
firms miss typical criteria (under 50 units, or commercial, HOA or brokerage
work). None can pass for a real business: websites use the reserved
``.example`` domain or a portal or social page named after it, and phones are
in the fictional 555-0100 to 555-0199 range.

Benchmarks score against the hidden ``firm_id``, so two firms never share a
registered domain within about two degrees of each other: no two firms of one
grid cell share a name word and kind, and the spelling of a domain depends on
the cell's place in an 8 x 8 tiling of cells. Phones cannot be kept apart that
way, as an area code has only 100 fictional lines, so unrelated firms of one
metro do share numbers, as real firms behind one switchboard would.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from leadgen.gazetteer import (
    Cell,
    ZipPlace,
    area_codes,
    distance,
    lookup,
    nearest,
    places_in_cell,
    places_named,
)

__all__ = [
    "CATEGORY_BROKERAGE",
    "CATEGORY_COMMERCIAL",
    "CATEGORY_HOA",
    "CATEGORY_RESIDENTIAL",
    "SHARED_HOSTS",
    "Listing",
    "listings_for_zip",
    "search_directory",
]

CATEGORY_RESIDENTIAL = "residential property management"
CATEGORY_COMMERCIAL = "commercial property management"
CATEGORY_HOA = "HOA management"
CATEGORY_BROKERAGE = "real estate brokerage"

#: Hosts shared by many firms that a listing may give instead of the firm's own
#: site: a tenant-portal provider and a social network.
SHARED_HOSTS = ("managebuilding.com", "facebook.com")

_DIRECTORY_URL = "https://directory.leadgen.example/co"
_MAX_METRO_FIRMS_PER_CELL = 24
_BRANCH_CANDIDATES = 10
_FALLBACK_AREA_CODE = "303"
_NAME_DRAWS = 5000


@dataclass(frozen=True)
class Listing:
    """One directory row: a firm as one page of the directory presents it.

    Attributes:
        listing_id: Stable id of this row, e.g. ``"dir-80202-003"``.
        firm_id: The real firm behind the row. Hidden truth for tests and
            benchmarks; a model must not use it to deduplicate.
        name: The firm's name as this row writes it.
        website: Website as written on this row, or None.
        phone: Phone number as written on this row, or None.
        street_address: Street address of the office, or None.
        city: City of the office: the postal city or an acceptable one.
        state: Two-letter state code.
        postal_code: Five-digit ZIP code the row is filed under.
        listing_url: The directory page of this row (the evidence URL).
        category: Line of business, one of the ``CATEGORY_*`` values.
        units_managed: Homes or units managed, or None when not stated.
        summary: The one sentence a search result would show.
    """

    listing_id: str
    firm_id: str
    name: str
    website: str | None
    phone: str | None
    street_address: str | None
    city: str
    state: str
    postal_code: str
    listing_url: str
    category: str
    units_managed: int | None
    summary: str


@dataclass(frozen=True)
class _Kind:
    phrase: str
    category: str
    forms: tuple[str, ...]


# A firm's kind, its category, and four spellings of the kind inside a domain
# name. No spelling may turn one kind's domain into another's; a test checks.
_KIND_ROWS = (
    ("Property Management", CATEGORY_RESIDENTIAL, "pm propmgmt pmgmt pmco"),
    ("Residential", CATEGORY_RESIDENTIAL, "residential res resi rez"),
    ("Management Co.", CATEGORY_RESIDENTIAL, "mgmt management mgmtco mc"),
    ("Property Group", CATEGORY_RESIDENTIAL, "pg propgroup pgrp prg"),
    ("Rentals", CATEGORY_RESIDENTIAL, "rentals rental rent rnt"),
    ("Apartment Management", CATEGORY_RESIDENTIAL, "apts aptmgmt am amg"),
    ("Residential Management", CATEGORY_RESIDENTIAL, "rm resmgmt rmg rmc"),
    ("Homes & Rentals", CATEGORY_RESIDENTIAL, "hr homerentals hnr hrent"),
    ("Commercial Properties", CATEGORY_COMMERCIAL, "cp commercial cprop comm"),
    ("Office & Retail Management", CATEGORY_COMMERCIAL, "orm oandr ormg or"),
    ("HOA Management", CATEGORY_HOA, "hoa hoamgmt hoam hoaco"),
    ("Community Association Management", CATEGORY_HOA, "cam camgmt ca cmg"),
    ("Realty", CATEGORY_BROKERAGE, "realty realtyco rlty realtor"),
    ("Real Estate", CATEGORY_BROKERAGE, "re realestate rea reco"),
)
_KINDS = tuple(
    _Kind(phrase, cat, tuple(forms.split())) for phrase, cat, forms in _KIND_ROWS
)

# Share of each category among metro firms and among local firms.
_METRO_MIX = {CATEGORY_RESIDENTIAL: 85, CATEGORY_COMMERCIAL: 10, CATEGORY_HOA: 5}
_LOCAL_MIX = {
    CATEGORY_RESIDENTIAL: 65,
    CATEGORY_COMMERCIAL: 12,
    CATEGORY_HOA: 10,
    CATEGORY_BROKERAGE: 13,
}

_BRANDS = (
    "Summit Aspen Cornerstone Keystone Pinnacle Evergreen Frontier Granite Horizon"
    " Ironwood Juniper Landmark Meridian Northstar Oakridge Pioneer Redstone"
    " Sagebrush Silverline Timberline Trailhead Willow Bluebird Copperleaf Foothill"
    " Highland Harbor Lantern Prairie Riverbend Stonegate Sunridge Crestline"
    " Cobblestone Clearwater Firstlight Kestrel Larkspur Mesa Pathway Quarry"
    " Sterling Tamarack Vista Wildflower Bellwether Canyon Driftwood Elkhorn"
).split()
_SECOND_WORDS = "Ridge Creek Park Point Valley Crossing Hollow Gate".split()
_SURNAMES = (
    "Abernathy Caldwell Delgado Everly Fairbanks Hartley Kessler Lindqvist Marlowe"
    " Okafor Pemberton Quintero Rasmussen Sorensen Takahashi Whitaker Bramwell"
    " Castellano Dunmore Halvorsen Ibarra Jablonski Nakamura Petrakis Vandermeer"
).split()
_STREETS = (
    "Main Oak Maple Cedar Elm Park Lake Hill Washington Lincoln Jefferson Madison"
    " Pine Spruce Walnut Willow Market Union Grand Highland Ridge Sunset Meadow"
    " Mill River Church 1st 2nd 3rd 14th 17th"
).split()
_STREET_TYPES = "St Ave Blvd Dr Rd Way Pkwy Ln Ct".split()

# Decorations around a domain's word and kind; with the four kind forms and two
# separators they give 64 spellings, one per tile of the 8 x 8 cell tiling.
_AFFIXES = ("", "group", "hq", "homes", "online", "the", "go", "team")
_PREFIX_AFFIXES = frozenset({"the", "go", "team"})

_ABBREVIATIONS = (
    ("Management", "Mgmt"),
    (" & ", " and "),
    ("Apartment", "Apt."),
    ("Association", "Assn."),
    ("Properties", "Props."),
    ("Commercial", "Comm."),
    ("Residential", "Res."),
    ("Real Estate", "RE"),
    ("Group", "Grp."),
)
_LEGAL_SUFFIXES = {"": 40, ", LLC": 25, " LLC": 15, ", Inc.": 12, " Co.": 8}


@dataclass(frozen=True)
class _Branch:
    place: ZipPlace
    phone: str
    main_line: bool


@dataclass(frozen=True)
class _Firm:
    firm_id: str
    word: str
    kind: _Kind
    legal: str
    units: int | None
    domain: str | None
    portal: bool
    branches: tuple[_Branch, ...]

    @property
    def name(self) -> str:
        return f"{self.word} {self.kind.phrase}"


@dataclass(frozen=True)
class _MetroRoster:
    firms: tuple[_Firm, ...]
    name_keys: frozenset[tuple[str, str]]
    lines: frozenset[str]


def search_directory(
    zip_codes: Sequence[str], areas: Sequence[str] = (), limit: int | None = None
) -> list[Listing]:
    """Return the listings of some ZIP codes and named areas, best first.

    Args:
        zip_codes: Five-digit ZIP codes to search. Unknown or malformed codes,
            and codes that are not active STANDARD ZIPs, add nothing.
        areas: City or neighbourhood names. Each adds every active ZIP whose
            postal or acceptable city has that name, ignoring case. A name
            without a state stays within the states of ``zip_codes`` when any
            is known, so "Aurora" next to Denver ZIPs means Aurora, CO;
            ``"Aurora, IL"`` names a state itself. Unknown names add nothing.
        limit: Return at most this many listings; None for all.

    Returns:
        Listings without repeats, largest ``units_managed`` first (unknown
        last), then by name and id, so equal searches give equal lists.

    Raises:
        ValueError: If ``limit`` is negative.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be zero or more, not {limit}")

    zips = dict.fromkeys(_zips_searched(_as_list(zip_codes), _as_list(areas)))
    found = {item.listing_id: item for code in zips for item in _listings_at(code)}

    ranked = sorted(found.values(), key=_rank)
    return ranked if limit is None else ranked[:limit]


def listings_for_zip(zip_code: str) -> list[Listing]:
    """Return every listing filed under one ZIP code, best first.

    The same ZIP code gives equal listings in any process. A code that is not an
    active STANDARD ZIP gives an empty list rather than an error.
    """
    place = lookup(zip_code)
    return [] if place is None else list(_listings_at(place.zip_code))


def _as_list(values: Sequence[str]) -> list[str]:
    # A lone string is a Sequence[str] too; read it as one value, not letters.
    return [values] if isinstance(values, str) else list(values)


def _zips_searched(zip_codes: list[str], areas: list[str]) -> Iterator[str]:
    places = [place for place in map(lookup, zip_codes) if place is not None]
    states = {place.state for place in places}
    yield from (place.zip_code for place in places)

    for area in areas:
        named = places_named(area)
        if states and "," not in area:
            named = tuple(place for place in named if place.state in states)
        yield from (place.zip_code for place in named)


def _rank(listing: Listing) -> tuple[bool, int, str, str]:
    units = listing.units_managed
    return (units is None, -(units or 0), listing.name.casefold(), listing.listing_id)


@lru_cache(maxsize=8192)
def _listings_at(zip_code: str) -> tuple[Listing, ...]:
    place = lookup(zip_code)
    if place is None:
        return ()

    local = [(firm, firm.branches[0]) for firm in _local_roster(place.cell)[zip_code]]
    drafts = [_render(firm, branch) for firm, branch in [*_metro_at(place), *local]]
    drafts.sort(key=lambda draft: (*_rank(draft)[:3], draft.firm_id))

    listings = []
    urls: set[str] = set()
    for number, draft in enumerate(drafts, start=1):
        url = f"{_DIRECTORY_URL}/{zip_code}/{_slug(draft.name, '-')}"
        url = f"{url}-{number}" if url in urls else url
        urls.add(url)
        listing_id = f"dir-{zip_code}-{number:03d}"
        listings.append(
            dataclasses.replace(draft, listing_id=listing_id, listing_url=url)
        )
    return tuple(listings)


def _metro_at(place: ZipPlace) -> Iterator[tuple[_Firm, _Branch]]:
    # A firm's branches are the ZIPs nearest its anchor, so a firm with a
    # branch here is anchored in this cell or in one next to it.
    lat_index, long_index = place.cell
    for step_lat, step_long in itertools.product((-1, 0, 1), repeat=2):
        for firm in _metro_roster((lat_index + step_lat, long_index + step_long)).firms:
            for branch in firm.branches:
                if branch.place.zip_code == place.zip_code:
                    yield firm, branch


@lru_cache(maxsize=4096)
def _metro_roster(cell: Cell) -> _MetroRoster:
    rng = _seeded("metro", *cell)
    names: set[tuple[str, str]] = set()
    lines = _LinePool(f"metro:{cell}")

    firms = []
    for number, offices in enumerate(_metro_offices(cell, rng), start=1):
        anchor = offices[0]
        kind = _draw_kind(rng, _METRO_MIX)
        word = _unique_word(_words(rng, anchor), kind, names)
        main = lines.take(rng.choice(_area_codes(anchor)))
        branches = [_Branch(anchor, main, main_line=True)]
        for place in offices[1:]:
            own_line = rng.random() < 0.5
            phone = lines.take(rng.choice(_area_codes(place))) if own_line else main
            branches.append(_Branch(place, phone, main_line=not own_line))

        firm_id = f"firm-m-{anchor.zip_code}-{number:02d}"
        firms.append(_firm(rng, firm_id, word, kind, cell, tuple(branches)))

    return _MetroRoster(
        firms=tuple(firms),
        name_keys=frozenset(names),
        lines=frozenset(branch.phone for firm in firms for branch in firm.branches),
    )


def _metro_offices(cell: Cell, rng: random.Random) -> list[list[ZipPlace]]:
    """Place the offices of a cell's metro firms, the anchor office first."""
    places = places_in_cell(cell)
    offices = []
    for _ in range(min(_MAX_METRO_FIRMS_PER_CELL, len(places) * 2 // 3)):
        anchor = rng.choice(places)
        nearby = nearest(anchor, _BRANCH_CANDIDATES)
        offices.append(
            [anchor, *rng.sample(nearby, min(rng.randint(1, 6), len(nearby)))]
        )

    # Chance leaves some ZIPs without a metro firm, yet in a city of several
    # ZIPs every one has an office of some larger firm: the nearest takes it.
    covered = {place for firm_offices in offices for place in firm_offices}
    for place in places:
        if offices and place not in covered:
            closest = min(offices, key=lambda firm: distance(firm[0], place))
            closest.append(place)
    return offices


@lru_cache(maxsize=4096)
def _local_roster(cell: Cell) -> Mapping[str, tuple[_Firm, ...]]:
    metro = _metro_roster(cell)
    names = set(metro.name_keys)
    lines = _LinePool(f"local:{cell}", metro.lines)
    metro_words = [firm.word for firm in metro.firms]

    roster = {}
    for place in places_in_cell(cell):
        rng = _seeded("local", place.zip_code)
        firms = []
        for number in range(1, rng.randint(3, 8) + 1):
            kind = _draw_kind(rng, _LOCAL_MIX)
            word = _unique_word(_words(rng, place, metro_words), kind, names)
            branch = _Branch(place, lines.take(rng.choice(_area_codes(place))), True)
            firm_id = f"firm-{place.zip_code}-{number:02d}"
            firms.append(_firm(rng, firm_id, word, kind, cell, (branch,)))
        roster[place.zip_code] = tuple(firms)
    return MappingProxyType(roster)


def _firm(
    rng: random.Random,
    firm_id: str,
    word: str,
    kind: _Kind,
    cell: Cell,
    branches: tuple[_Branch, ...],
) -> _Firm:
    metro = len(branches) > 1
    has_site = metro or rng.random() < 0.8
    legal = "" if kind.phrase.endswith("Co.") else _weighted(rng, _LEGAL_SUFFIXES)
    return _Firm(
        firm_id=firm_id,
        word=word,
        kind=kind,
        legal=legal,
        units=_draw_units(rng, kind.category, metro),
        domain=_domain(word, kind, cell) if has_site else None,
        portal=kind.category == CATEGORY_RESIDENTIAL and rng.random() < 0.4,
        branches=branches,
    )


class _LinePool:
    """Deals fictional phone lines so that firms of one cell rarely share one."""

    def __init__(self, seed: str, taken: frozenset[str] = frozenset()) -> None:
        self._seed = seed
        self._taken = taken
        self._free: dict[str, list[str]] = {}
        self._shared = 0

    def take(self, area_code: str) -> str:
        """Return an unused line of ``area_code`` as ten digits."""
        if area_code not in self._free:
            lines = [f"{area_code}5550{n}" for n in range(100, 200)]
            free = [line for line in lines if line not in self._taken]
            _seeded("lines", self._seed, area_code).shuffle(free)
            self._free[area_code] = free

        free = self._free[area_code]
        if free:
            return free.pop()

        # A crowded cell can use up all 100 lines; sharing is then unavoidable.
        self._shared += 1
        line = _seeded("shared", self._seed, self._shared).randrange(100, 200)
        return f"{area_code}5550{line}"


def _unique_word(words: Iterable[str], kind: _Kind, taken: set[tuple[str, str]]) -> str:
    for word in itertools.islice(words, _NAME_DRAWS):
        key = (_slug(word), kind.phrase)
        if key not in taken:
            taken.add(key)
            return word
    raise RuntimeError(f"no free firm name left for kind {kind.phrase!r} in a cell")


def _words(
    rng: random.Random, place: ZipPlace, borrow: Sequence[str] = ()
) -> Iterator[str]:
    """Draw name words for a firm; local firms pass the metro words to borrow.

    Borrowed words make look-alikes: "Summit Realty" next to "Summit Property
    Management", a different firm with its own domain and phone. Local firms
    also take their town's name now and then, as small firms do.
    """
    local = bool(borrow)
    while True:
        roll = rng.random()
        if local and roll < 0.12:
            yield rng.choice(borrow)
        elif local and roll < 0.24:
            yield rng.choice((place.city, *place.acceptable_cities))
        elif roll < 0.4:
            yield rng.choice(_SURNAMES)
        elif roll < 0.56:
            yield f"{rng.choice(_BRANDS)} {rng.choice(_SECOND_WORDS)}"
        else:
            yield rng.choice(_BRANDS)


def _draw_kind(rng: random.Random, mix: Mapping[str, int]) -> _Kind:
    category = _weighted(rng, mix)
    return rng.choice([kind for kind in _KINDS if kind.category == category])


def _draw_units(rng: random.Random, category: str, metro: bool) -> int | None:
    if category == CATEGORY_RESIDENTIAL:
        if not metro and rng.random() < 0.1:
            return None
        small = not metro and rng.random() < 0.25
        low, high = (120, 6000) if metro else (8, 49) if small else (50, 2500)
    elif category == CATEGORY_HOA:
        low, high = 150, 8000
    elif rng.random() < 0.6:
        return None
    else:
        low, high = (12, 400) if category == CATEGORY_COMMERCIAL else (4, 45)

    # Log-uniform: many small portfolios, a few very large ones.
    units = round(math.exp(rng.uniform(math.log(low), math.log(high))))
    return units if units < 100 else round(units, -1)


def _domain(word: str, kind: _Kind, cell: Cell) -> str:
    tile = (cell[0] % 8) * 8 + cell[1] % 8
    spelling = (tile + _digest("domain", _slug(word), kind.phrase)) % 64

    form, separator = kind.forms[spelling % 4], "-" if spelling // 4 % 2 else ""
    affix = _AFFIXES[spelling // 8]
    if affix in _PREFIX_AFFIXES:
        return f"{affix}{_slug(word)}{separator}{form}.example"
    return separator.join(filter(None, (_slug(word), form, affix))) + ".example"


def _render(firm: _Firm, branch: _Branch) -> Listing:
    place = branch.place
    rng = _seeded("listing", firm.firm_id, place.zip_code)
    branch_count = len(firm.branches)

    city = place.city
    if place.acceptable_cities and rng.random() < 0.3:
        city = rng.choice(place.acceptable_cities)
    name = _listed_name(rng, firm, city)
    units = firm.units if rng.random() < 0.9 else None
    # Callers on a shared main line are put through to the branch.
    extension = branch.main_line and branch is not firm.branches[0]

    return Listing(
        listing_id="",
        firm_id=firm.firm_id,
        name=name,
        website=_listed_website(rng, firm, city),
        phone=_listed_phone(rng, branch.phone, extension),
        street_address=_street_address(rng),
        city=city,
        state=place.state,
        postal_code=place.zip_code,
        listing_url="",
        category=firm.kind.category,
        units_managed=units,
        summary=_summary(rng, name, firm.kind.category, units, city, branch_count),
    )


def _listed_name(rng: random.Random, firm: _Firm, city: str) -> str:
    name = firm.name
    abbreviated = next(
        (name.replace(long, short) for long, short in _ABBREVIATIONS if long in name),
        name + firm.legal,
    )
    forms = {
        name + firm.legal: 30,
        name: 25,
        abbreviated: 20,
        (name + firm.legal).upper(): 10,
        f"{name} - {city}": 15,
    }
    if len(firm.branches) == 1:
        forms[name + firm.legal] = 80
    return _weighted(rng, forms)


def _listed_website(rng: random.Random, firm: _Firm, city: str) -> str | None:
    if firm.domain is None:
        social = f"https://www.facebook.com/{_slug(firm.name)}{_slug(city)}"
        return social if rng.random() < 0.3 else None

    domain = firm.domain
    stem = domain.removesuffix(".example")
    forms = {
        f"https://www.{domain}/": 30,
        f"https://{domain}": 15,
        f"http://{domain}/{_slug(city, '-')}": 12,
        domain: 10,
        f"www.{domain}": 8,
        f"https://{stem}.managebuilding.com": 12 if firm.portal else 0,
        f"https://www.facebook.com/{stem.replace('-', '')}": 5,
        "": 8,
    }
    return _weighted(rng, forms) or None


def _listed_phone(rng: random.Random, digits: str, extension: bool) -> str | None:
    if rng.random() < 0.08:
        return None

    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    if extension and rng.random() < 0.3:
        return f"{area}-{exchange}-{line} ext. {rng.randint(2, 9)}"
    return rng.choice(
        (
            f"({area}) {exchange}-{line}",
            f"{area}.{exchange}.{line}",
            f"+1 {area}-{exchange}-{line}",
            f"{area}-{exchange}-{line}",
            f"1-{area}-{exchange}-{line}",
        )
    )


def _street_address(rng: random.Random) -> str | None:
    if rng.random() < 0.1:
        return None

    street = (
        f"{rng.randint(100, 9899)} {rng.choice(_STREETS)} {rng.choice(_STREET_TYPES)}"
    )
    unit = rng.random()
    if unit < 0.3:
        return f"{street}, Suite {rng.randint(1, 4)}{rng.randint(0, 5)}0"
    if unit < 0.4:
        return f"{street} #{rng.randint(100, 450)}"
    return street


def _summary(
    rng: random.Random,
    name: str,
    category: str,
    units: int | None,
    city: str,
    branch_count: int,
) -> str:
    if category == CATEGORY_COMMERCIAL:
        return f"{name} leases and manages offices, shops and warehouses in {city}."
    if category == CATEGORY_BROKERAGE:
        rentals = f"; it also leases {units} homes for owners" if units else ""
        return f"{name} helps buyers and sellers of homes in {city}{rentals}."
    if category == CATEGORY_HOA:
        homes = f"{units:,} homes in " if units else ""
        return f"{name} runs {homes}homeowner and condo associations near {city}."

    if units is None:
        return f"{name} looks after rentals for {city} landlords; size not stated."
    if branch_count > 1:
        return (
            f"{name}, {city} office: about {units:,} apartments and rental homes "
            f"managed from {branch_count} offices across the metro."
        )
    return rng.choice(
        (
            f"{name} manages {units:,} apartments and rental homes in {city}.",
            f"Full-service residential management: {units:,} units around {city}.",
            f"Leasing, upkeep and rent collection for {units:,} rentals in {city}.",
        )
    )


def _area_codes(place: ZipPlace) -> tuple[str, ...]:
    return area_codes(place) or (_FALLBACK_AREA_CODE,)


def _weighted(rng: random.Random, weights: Mapping[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _digest(*parts: object) -> int:
    # hashlib, not hash(): string hashes change from one process to the next.
    key = "\x1f".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


def _seeded(*parts: object) -> random.Random:
    return random.Random(_digest(*parts))


def _slug(value: str, separator: str = "") -> str:
    return re.sub(r"[^a-z0-9]+", separator, value.lower()).strip("-")
