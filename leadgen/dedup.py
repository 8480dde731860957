"""Group business records that describe one company, and say why.

Deduplication runs in three steps. Each record is normalised
(:func:`normalize_record`). Pairs of records that share a blocking key (website,
phone, street address, or a name word within one place) are judged by explicit
rules and joined by a :class:`Link` that names the rule. Links are grouped into
clusters with union-find, and each cluster becomes one company with an id
derived from its content, so a rerun over the same records gives the same ids.

The rules, strongest first:

* ``domain+name`` / ``portal+name``: the same company website (a registered
  domain that is not shared, or one tenant's host on a portal or site builder)
  and names that are compatible. One domain in several cities is one company
  with branches. A shared website with incompatible names still links when the
  phone (``domain+phone``) or street address (``domain+address``) agrees too.
* ``phone+name``: the same phone and similar names. A switchboard shared by
  differently named firms never links them.
* ``name+street``: the same house number and street and similar names, unless
  the records are in different cities.
* ``name+zip`` / ``name+city``: near-identical names in the same place, unless
  phone and street both disagree, or the phone disagrees and only the city
  (not the ZIP) is shared: one city can hold two firms with one name.

Two records whose own websites differ are never linked by the weaker rules, and
a weak link that would join two clusters with different own websites is refused,
so a record without a website cannot chain two same-named firms together.

Known limits, each a choice for precision over recall: a firm that uses two
domains (an old one and a new one) stays two companies; a listing with only a
name and no place, phone or website joins nothing; and blocks with more than a
few dozen records (a switchboard shared by hundreds) are compared only between
neighbours in name order.
"""

from __future__ import annotations

import gc
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from leadgen import names
from leadgen import normalize as nz

#: Record fields, in the order they appear in a lead list.
FIELDS = ("name", "website", "phone", "street_address", "city", "state", "postal_code")

#: Name similarity a shared website needs (or an acronym of the other name).
COMPATIBLE = 0.5
#: Name similarity a shared phone or street address needs.
SIMILAR = 0.8
#: Name similarity two records in one place need with nothing else in common
#: (a name that is the other plus generic words only scores this).
NEAR = names.NEAR

# Blocks larger than this are compared within a sliding window over the names
# sorted, which keeps one huge switchboard or franchise from going quadratic.
_FULL_BLOCK = 60
_WINDOW = 20


@dataclass(frozen=True)
class Record:
    """One raw business record, as an agent or a spreadsheet wrote it.

    Attributes:
        key: The caller's stable id for the record (a row number, a candidate id).
        name: Company name.
        website: URL, bare host or email address.
        phone: Phone number in any common format.
        street_address: Street address, on one line or with commas.
        city: City name.
        state: State code or name.
        postal_code: ZIP code.
    """

    key: str
    name: str | None = None
    website: str | None = None
    phone: str | None = None
    street_address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True)
class NormalizedRecord:
    """The comparable keys of one record; None or "" where a field says nothing.

    Attributes:
        key: The record's key.
        name_norm: Canonical name (see :func:`leadgen.normalize.normalize_name`).
        name_core: ``name_norm`` without generic industry words.
        domain: Registered domain of the website.
        host: Website host without ``www.``.
        domain_is_shared: True when ``domain`` hosts many companies.
        site_key: The website key that identifies one company, if any.
        phone_e164: Phone in E.164 form.
        phone_ext: Phone extension.
        street_number: House number.
        street_norm: Canonical street without unit.
        city: Normalised city name.
        state: Two-letter state code.
        postal_code: Five-digit ZIP.
    """

    key: str
    name_norm: str
    name_core: str
    domain: str | None
    host: str | None
    domain_is_shared: bool
    site_key: str | None
    phone_e164: str | None
    phone_ext: str | None
    street_number: str | None
    street_norm: str | None
    city: str | None
    state: str | None
    postal_code: str | None

    @property
    def own_domain(self) -> str | None:
        """The company's own registered domain (not a portal or social page)."""
        return None if self.domain_is_shared else self.site_key


@dataclass(frozen=True)
class Link:
    """Why two records were judged to be one company.

    Attributes:
        left: Key of one record (the smaller key).
        right: Key of the other record.
        reason: The rule that matched, such as ``domain+name`` or ``phone+name``.
        name_score: Name similarity from 0 to 1, None when a name was missing.
    """

    left: str
    right: str
    reason: str
    name_score: float | None


@dataclass(frozen=True)
class Cluster:
    """One company: its id, the keys of its records and the links joining them.

    Attributes:
        company_id: ``co_`` plus a hash of the cluster's identity (see
            :func:`cluster`); stable across reruns over the same records.
        keys: Member record keys, sorted.
        links: The links that joined the members (a spanning set, not every
            matching pair).
    """

    company_id: str
    keys: tuple[str, ...]
    links: tuple[Link, ...]


def normalize_record(record: Record) -> NormalizedRecord:
    """Return the normalised keys of ``record``; never raises on odd values."""
    name_norm = nz.normalize_name(record.name)
    website = nz.parse_website(record.website)
    phone = nz.normalize_phone(record.phone)
    street = nz.normalize_street(record.street_address, record.city)
    return NormalizedRecord(
        key=record.key,
        name_norm=name_norm,
        name_core=nz.core_name(name_norm),
        domain=website.domain if website else None,
        host=website.host if website else None,
        domain_is_shared=website.is_shared if website else False,
        site_key=website.site_key if website else None,
        phone_e164=phone.e164 if phone else None,
        phone_ext=phone.extension if phone else None,
        street_number=street.number,
        street_norm=street.street,
        city=nz.normalize_city(record.city),
        state=nz.normalize_state(record.state),
        postal_code=nz.normalize_zip(record.postal_code),
    )


# --- name similarity -----------------------------------------------------------


def name_similarity(left: NormalizedRecord, right: NormalizedRecord) -> float | None:
    """Score how alike two company names are, from 0 to 1 (None if one is missing).

    Names are compared word by word: words match when equal or when they differ
    by a typo. Generic industry words and the records' own city names weigh a
    quarter of a distinctive word, so ``Acme Property Management`` and ``Acme
    Properties`` score high while ``Acme Plumbing`` and ``Acme Dental`` do not.
    A name that is the other plus only generic words scores :data:`NEAR`; an
    acronym of the other name scores just above :data:`COMPATIBLE`.
    """
    if not left.name_norm or not right.name_norm:
        return None
    return names.similarity(left.name_norm, right.name_norm, left.city, right.city)


# --- linking -------------------------------------------------------------------


def link(records: Iterable[Record]) -> list[Link]:
    """Return the links that join ``records`` into companies, each with its rule.

    Every cluster of :func:`cluster` is explained by these links: each one joined
    two groups that were not yet joined. Pairs already in one group are not
    compared again, which is what keeps large groups cheap, so this is a
    spanning set of links rather than every matching pair.

    Raises:
        ValueError: Two records have the same key.
    """
    with gc_paused():
        rows = [normalize_record(record) for record in records]
        return _resolve(rows)[1]


def cluster(records: Iterable[Record]) -> list[Cluster]:
    """Group records into companies, sorted by their smallest member key.

    A company's id is ``co_`` plus the first 12 hex digits of the SHA-1 of its
    identity: the smallest own domain among its members, else the smallest
    portal host, else the smallest ``name|city|state``, else the smallest
    phone, else the smallest key. Row order and run ids play no part, so the
    same records always get the same ids, and a company keeps its id when a
    record without a website joins it. Two clusters with one identity (say the
    same name without a city) get the smallest member key mixed into the hash.

    Raises:
        ValueError: Two records have the same key.
    """
    with gc_paused():
        return _cluster([normalize_record(record) for record in records])


def cluster_normalized(rows: Sequence[NormalizedRecord]) -> list[Cluster]:
    """Like :func:`cluster`, for callers that already normalised their records."""
    with gc_paused():
        return _cluster(rows)


def _cluster(rows: Sequence[NormalizedRecord]) -> list[Cluster]:
    groups, links = _resolve(rows)

    link_root: dict[int, list[Link]] = defaultdict(list)
    index = {row.key: i for i, row in enumerate(rows)}
    for found in links:
        link_root[groups.find(index[found.left])].append(found)

    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        members[groups.find(i)].append(i)
    identities = {
        root: min(_identity(rows[i]) for i in indices)
        for root, indices in members.items()
    }
    ids = _company_ids(identities, members, rows)

    clusters = [
        Cluster(
            company_id=ids[root],
            keys=tuple(sorted(rows[i].key for i in indices)),
            links=tuple(link_root[root]),
        )
        for root, indices in members.items()
    ]
    return sorted(clusters, key=lambda found: found.keys[0])


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small objects are built.

    Deduplication allocates millions of short-lived tuples and strings but no
    reference cycles; left running, the collector's repeated passes over the
    growing set of live objects cost about a third of the time at 100,000
    records. The previous state is restored on the way out.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Groups:
    """Union-find over row indices that refuses to mix two own domains."""

    def __init__(self, rows: Sequence[NormalizedRecord]) -> None:
        self.parent = list(range(len(rows)))
        self.domain: list[str | None] = [row.own_domain for row in rows]

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> bool:
        """Join the groups of i and j; False if joined already or in conflict."""
        root_i, root_j = self.find(i), self.find(j)
        if root_i == root_j:
            return False
        domain_i, domain_j = self.domain[root_i], self.domain[root_j]
        if domain_i and domain_j and domain_i != domain_j:
            return False
        self.parent[root_j] = root_i
        self.domain[root_i] = domain_i or domain_j
        return True


def _resolve(rows: Sequence[NormalizedRecord]) -> tuple[_Groups, list[Link]]:
    groups = _Groups(rows)
    if len({row.key for row in rows}) != len(rows):
        raise ValueError("record keys must be unique")

    # Same website first: these links cannot conflict with each other, and once
    # they are in, the weaker rules compare groups rather than single records.
    links = _link_same_sites(rows, groups)
    candidates = _weak_candidates(rows, groups)

    # Strongest rules, then best names, then most fields in common first, so a
    # record that could join two rival groups joins the better match and the
    # link to the other is refused.
    def rank(item: tuple[tuple[int, int], Link]) -> tuple[int, float, int, str, str]:
        (i, j), found = item
        support = _support(rows[i], rows[j])
        order = _RULE_ORDER.index(found.reason)
        return (order, -(found.name_score or 0.0), -support, found.left, found.right)

    for (i, j), found in sorted(candidates.items(), key=rank):
        if groups.union(i, j):
            links.append(found)

    # The comparisons cached for these records are of little use to the next
    # call, and the garbage collector would walk them on every full pass.
    names.forget()
    return groups, links


def _link_same_sites(rows: Sequence[NormalizedRecord], groups: _Groups) -> list[Link]:
    """Join records that share a website, and return the links that did it."""
    links: list[Link] = []
    for members in _blocks(rows, _site_keys):
        for i, j in _pairs(members, rows):
            if groups.find(i) != groups.find(j):
                found = _judge(rows[i], rows[j])
                if found is not None and groups.union(i, j):
                    links.append(found)
    return links


def _weak_candidates(
    rows: Sequence[NormalizedRecord], groups: _Groups
) -> dict[tuple[int, int], Link]:
    """Judge the pairs that share a phone, street or name key, once each.

    Nothing is joined here, so each record's group, and the own website that
    group is bound to, are looked up once. In a merge of many regions most
    records that share a recycled phone line are different firms, so pairs are
    skipped before they are judged when they are in one group already, when
    their groups are bound to two own websites (the union would be refused),
    or when, without a shared website, their names cannot reach :data:`SIMILAR`,
    the least any rule without one needs.
    """
    roots = [groups.find(i) for i in range(len(rows))]
    bound = [groups.domain[root] for root in roots]
    candidates: dict[tuple[int, int], Link] = {}
    judged: set[tuple[int, int]] = set()
    for members in _blocks(rows, _weak_keys):
        for i, j in _pairs(members, rows):
            a, b = rows[i], rows[j]
            if roots[i] == roots[j] or (bound[i] and bound[j] and bound[i] != bound[j]):
                continue
            same_site = a.site_key is not None and a.site_key == b.site_key
            if not same_site and not names.could_reach(
                a.name_norm, b.name_norm, SIMILAR
            ):
                continue
            pair = (i, j) if i < j else (j, i)
            if pair in judged:
                continue
            judged.add(pair)
            found = _judge(a, b)
            if found is not None:
                candidates[pair] = found
    return candidates


# Strongest first. Website rules only reach this ranking when a pair sharing a
# website was skipped by the window over a very large block.
_RULE_ORDER = (
    "domain+name", "portal+name", "domain+phone", "portal+phone",
    "domain+address", "portal+address",
    "phone+name", "name+street", "name+zip", "name+city",
)  # fmt: skip


def _support(a: NormalizedRecord, b: NormalizedRecord) -> int:
    fields = ("phone_e164", "street_number", "street_norm", "city", "postal_code")
    return sum(
        getattr(a, field) is not None and getattr(a, field) == getattr(b, field)
        for field in fields
    )


def _judge(a: NormalizedRecord, b: NormalizedRecord) -> Link | None:
    same_site = a.site_key is not None and a.site_key == b.site_key
    if not same_site and a.own_domain and b.own_domain:
        return None
    same_phone = a.phone_e164 is not None and a.phone_e164 == b.phone_e164
    same_street = (
        a.street_number is not None
        and a.street_norm is not None
        and (a.street_number, a.street_norm) == (b.street_number, b.street_norm)
    )

    if same_site:
        score = name_similarity(a, b)
        kind = "portal" if a.domain_is_shared else "domain"
        if score is None or score >= COMPATIBLE:
            reason = f"{kind}+name"
        elif same_phone:
            reason = f"{kind}+phone"
        elif same_street:
            reason = f"{kind}+address"
        else:
            return None
    else:
        # The other fields decide which rule could apply before any name is
        # compared, since most pairs in a block fail on them alone.
        rule = _weak_rule(a, b, same_phone, same_street)
        if rule is None:
            return None
        reason, needed = rule
        score = name_similarity(a, b)
        if score is None or score < needed:
            return None

    left, right = min(a.key, b.key), max(a.key, b.key)
    return Link(left, right, reason, None if score is None else round(score, 3))


def _weak_rule(
    a: NormalizedRecord, b: NormalizedRecord, same_phone: bool, same_street: bool
) -> tuple[str, float] | None:
    """Return the first rule without a website that the fields besides the name allow.

    The rule comes with the name similarity it needs, or None when no rule can
    apply. Each later rule needs at least the similarity of the one before, so
    when the first that applies fails on the name, every later one fails too.
    """
    if same_phone:
        return "phone+name", SIMILAR
    place = _place(a, b)
    if same_street and place != "different":
        return "name+street", SIMILAR
    # Near-identical names in one place link unless other evidence disagrees.
    # Firms list several lines and move offices, so one disagreement is allowed,
    # but a different phone only with the same ZIP: a city can hold two firms
    # with one name.
    if place not in ("zip", "city"):
        return None
    phone_differs = bool(a.phone_e164 and b.phone_e164)  # not the same phone here
    street_differs = bool(a.street_number and b.street_number) and not same_street
    if phone_differs and (street_differs or place == "city"):
        return None
    return f"name+{place}", NEAR


def _place(a: NormalizedRecord, b: NormalizedRecord) -> str:
    """Say whether two records share a ZIP, a city, neither, or cannot tell.

    The city a record names comes first. The ZIP gazetteer stands in for a
    missing city, and bridges a suburb to the name USPS files its ZIP under
    (a Lakewood office in ZIP 80226, which USPS calls Denver).
    """
    if a.postal_code and a.postal_code == b.postal_code:
        return "zip"
    if a.state and b.state and a.state != b.state:
        return "different"
    if a.city and b.city:
        bridged = a.city in nz.zip_cities(b.postal_code) or b.city in nz.zip_cities(
            a.postal_code
        )
        return "city" if a.city == b.city or bridged else "different"

    cities_a = {a.city} if a.city else nz.zip_cities(a.postal_code)
    cities_b = {b.city} if b.city else nz.zip_cities(b.postal_code)
    if not cities_a or not cities_b:
        return "unknown"
    return "city" if cities_a & cities_b else "different"


# --- blocking ------------------------------------------------------------------


def _site_keys(row: NormalizedRecord) -> tuple[str, ...]:
    return (row.site_key,) if row.site_key else ()


def _weak_keys(row: NormalizedRecord) -> list[str]:
    if not row.name_norm:
        return []
    keys = list(_name_keys(row.name_norm, row.name_core, row.city, row.postal_code))
    if row.phone_e164:
        keys.append(f"phone {row.phone_e164}")
    if row.street_number and row.street_norm:
        keys.append(f"street {row.street_number} {row.street_norm}")
    return keys


@lru_cache(maxsize=65536)
def _name_keys(
    name_norm: str, name_core: str, city: str | None, postal_code: str | None
) -> tuple[str, ...]:
    # The name rule needs near-identical names in one place, and names that
    # close share their distinctive words. So a name is only compared with
    # names in the same ZIP or city (USPS names for the ZIP count) that have
    # the same distinctive words, each cut to four letters so that typos later
    # in a word still meet. City words are left out: "Acme Denver" in Denver is
    # "Acme". A name made only of generic words is its own key.
    city_words = (city or "").split()
    prefixes = {w[:4] for w in name_core.split() if w not in city_words}
    name_key = " ".join(sorted(prefixes)) or f"={name_norm}"
    return tuple(f"name {place}|{name_key}" for place in _place_keys(city, postal_code))


@lru_cache(maxsize=65536)
def _place_keys(city: str | None, postal_code: str | None) -> tuple[str, ...]:
    cities = nz.zip_cities(postal_code)
    keys = {city} if city else set()
    keys.update(cities)
    if postal_code and not cities:
        keys.add(postal_code)
    return tuple(keys)


_KeysOf = Callable[[NormalizedRecord], Iterable[str]]


def _blocks(rows: Sequence[NormalizedRecord], keys_of: _KeysOf) -> list[list[int]]:
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        for key in keys_of(row):
            blocks[key].append(i)
    return [members for members in blocks.values() if len(members) > 1]


def _pairs(
    members: list[int], rows: Sequence[NormalizedRecord]
) -> Iterator[tuple[int, int]]:
    if len(members) <= _FULL_BLOCK:
        for position, i in enumerate(members):
            for j in members[position + 1 :]:
                yield i, j
        return
    ordered = sorted(members, key=lambda i: (rows[i].name_norm, rows[i].key))
    for position, i in enumerate(ordered):
        for j in ordered[position + 1 : position + 1 + _WINDOW]:
            yield i, j


# --- company ids and values ----------------------------------------------------


def _identity(row: NormalizedRecord) -> tuple[int, str]:
    if row.own_domain:
        return (0, row.own_domain)
    if row.site_key:
        return (1, row.site_key)
    if row.name_norm:
        return (2, f"{row.name_norm}|{row.city or ''}|{row.state or ''}")
    if row.phone_e164:
        return (3, row.phone_e164)
    return (4, row.key)


def _company_ids(
    identities: Mapping[int, tuple[int, str]],
    members: Mapping[int, list[int]],
    rows: Sequence[NormalizedRecord],
) -> dict[int, str]:
    roots_by_identity: dict[tuple[int, str], list[int]] = defaultdict(list)
    for root, identity in identities.items():
        roots_by_identity[identity].append(root)

    ids: dict[int, str] = {}
    for (_, text), roots in roots_by_identity.items():
        for root in roots:
            seed = text
            if len(roots) > 1:
                seed += "\x00" + min(rows[i].key for i in members[root])
            ids[root] = "co_" + hashlib.sha1(seed.encode()).hexdigest()[:12]
    return ids


def best_values(
    records: Sequence[Record], rows: Sequence[NormalizedRecord] | None = None
) -> dict[str, str | None]:
    """Choose one value per field for the company these records describe.

    ``name`` is the most common raw spelling of the most common normalised name,
    preferring spellings that are not all capitals and longer ones. ``website``
    is ``https://`` plus the most common host of the company's own domain, else
    its portal host, else the most common shared page (a social profile). ``phone``
    is the most common valid number in E.164. The address fields come together
    from one record, the most complete one in the most common city, with gaps
    filled from records in the same city; ``state`` is a two-letter code and
    ``postal_code`` a ZIP5. ``rows`` are the records' normalised forms, in the
    same order, when the caller has them already.
    """
    if rows is None:
        rows = [normalize_record(record) for record in records]
    values: dict[str, str | None] = {
        "name": _best_name(records, rows),
        "website": _best_website(records, rows),
        "phone": _most_common(row.phone_e164 for row in rows),
    }
    values.update(_best_location(records, rows))
    return values


def _most_common(values: Iterable[str | None]) -> str | None:
    counts = _tally(values)
    if len(counts) < 2:
        return next(iter(counts), None)
    return min(counts, key=lambda value: (-counts[value], value))


def _tally(values: Iterable[str | None]) -> dict[str, int]:
    # A plain dict: most companies have a record or two, and building a
    # Counter for each field of each of them costs more than the counting.
    counts: dict[str, int] = {}
    for value in values:
        if value:
            counts[value] = counts.get(value, 0) + 1
    return counts


def _best_name(
    records: Sequence[Record], rows: Sequence[NormalizedRecord]
) -> str | None:
    best_norm = _most_common_by(
        (row.name_norm for row in rows), lambda norm: (len(norm.split()), len(norm))
    )
    spellings = [
        " ".join(record.name.split())
        for record, row in zip(records, rows, strict=True)
        if record.name and row.name_norm == best_norm
    ]
    return _most_common_by(spellings, lambda raw: (not raw.isupper(), len(raw)))


def _most_common_by(
    values: Iterable[str | None], preference: Callable[[str], object]
) -> str | None:
    counts = _tally(values)
    if len(counts) < 2:
        return next(iter(counts), None)
    return max(sorted(counts), key=lambda value: (counts[value], preference(value)))


def _best_website(
    records: Sequence[Record], rows: Sequence[NormalizedRecord]
) -> str | None:
    own = _most_common(row.own_domain for row in rows)
    if own is not None:
        return _most_common(
            site.homepage
            for record in records
            if (site := nz.parse_website(record.website)) and site.domain == own
        )
    portal = _most_common(row.site_key for row in rows)
    if portal is not None:
        return f"https://{portal}"
    return _most_common(
        record.website.strip()
        for record, row in zip(records, rows, strict=True)
        if record.website and row.domain
    )


def _best_location(
    records: Sequence[Record], rows: Sequence[NormalizedRecord]
) -> dict[str, str | None]:
    # The most common city wins (a branch listed once does not displace the
    # head office), then the most complete record in it.
    cities = _tally(row.city for row in rows)

    def score(i: int) -> tuple[int, int, str]:
        row, record = rows[i], records[i]
        filled = [record.street_address, row.city, row.state, row.postal_code]
        return (cities.get(row.city or "", 0), sum(map(bool, filled)), row.key)

    best = max(range(len(rows)), key=score, default=None)
    if best is None:
        return {
            "street_address": None,
            "city": None,
            "state": None,
            "postal_code": None,
        }

    order = [best, *(i for i, row in enumerate(rows) if row.city == rows[best].city)]
    street = _first(records[i].street_address for i in order)
    city = _first(records[i].city for i in order)
    return {
        "street_address": " ".join(street.split()) if street else None,
        "city": " ".join(city.split()) if city else None,
        "state": _first(rows[i].state for i in order),
        "postal_code": _first(rows[i].postal_code for i in order),
    }


def _first(values: Iterable[str | None]) -> str | None:
    return next((value for value in values if value and value.strip()), None)
