"""The sample directory: stable, cheap, messy in the ways real searches are."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from leadgen import directory, gazetteer
from leadgen.directory import (
    CATEGORY_BROKERAGE,
    CATEGORY_COMMERCIAL,
    CATEGORY_HOA,
    CATEGORY_RESIDENTIAL,
    SHARED_HOSTS,
    Listing,
    listings_for_zip,
    search_directory,
)

# Central and inner-ring Denver, the kind of ZIPs neighbouring regions share.
DENVER = (
    "80202 80203 80204 80205 80206 80207 80209 80210 80211 80212 80214 80216"
    " 80218 80219 80220 80222 80223 80224 80226 80227 80230 80231 80237 80238"
).split()

# Dense, sparse, far north, far west and a ZIP filed without an area code.
SAMPLE_ZIPS = {
    "denver": "80202",
    "manhattan": "10001",
    "rural-montana": "59001",
    "anchorage": "99501",
    "honolulu": "96813",
    "no-area-code": "84048",
}

PHONE = re.compile(
    r"^(?:\+1 |1-)?\(?(?P<area>\d{3})\)?[ .-]555[.-](?P<line>01\d\d)(?: ext\. \d)?$"
)


@pytest.fixture(scope="module", autouse=True)
def fresh_process() -> Iterator[subprocess.Popen[str]]:
    """Listings of 80202 made by another process, started first to save time.

    Loading the gazetteer takes most of a second; the child loads it while
    this process does the same for the other tests.
    """
    script = (
        "import dataclasses, json\n"
        "from leadgen.directory import listings_for_zip\n"
        "rows = [dataclasses.asdict(x) for x in listings_for_zip('80202')]\n"
        "print(json.dumps(rows))\n"
    )
    # Another hash seed would expose any use of hash() in making the data.
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        cwd=Path(__file__).resolve().parent.parent,
    )
    yield child

    if child.poll() is None:
        child.kill()
    child.communicate()


@pytest.fixture(scope="module")
def denver() -> list[Listing]:
    return [listing for code in DENVER for listing in listings_for_zip(code)]


@pytest.fixture(scope="module")
def denver_by_firm(denver: list[Listing]) -> dict[str, list[Listing]]:
    by_firm: defaultdict[str, list[Listing]] = defaultdict(list)
    for listing in denver:
        by_firm[listing.firm_id].append(listing)
    return dict(by_firm)


def _host(website: str) -> str:
    return urlsplit(website if "//" in website else f"//{website}").hostname or ""


def _clear_caches() -> None:
    for cached in (
        directory._listings_at,
        directory._metro_roster,
        directory._local_roster,
    ):
        cached.cache_clear()


@pytest.mark.parametrize("code", SAMPLE_ZIPS.values(), ids=SAMPLE_ZIPS.keys())
def test_a_zip_gives_the_same_listings_when_rebuilt(code: str) -> None:
    first = listings_for_zip(code)
    _clear_caches()

    assert listings_for_zip(code) == first
    assert 3 <= len(first) <= 30


def test_a_fresh_process_gives_the_same_listings(
    fresh_process: subprocess.Popen[str],
) -> None:
    output, errors = fresh_process.communicate(timeout=60)

    assert fresh_process.returncode == 0, errors
    expected = [dataclasses.asdict(item) for item in listings_for_zip("80202")]
    assert json.loads(output) == expected


@pytest.mark.parametrize("code", SAMPLE_ZIPS.values(), ids=SAMPLE_ZIPS.keys())
def test_websites_are_reserved_or_shared_hosts(code: str) -> None:
    websites = [x.website for x in listings_for_zip(code) if x.website]

    for website in websites:
        host = _host(website)
        assert host.endswith(".example") or host.endswith(SHARED_HOSTS), website


@pytest.mark.parametrize("code", SAMPLE_ZIPS.values(), ids=SAMPLE_ZIPS.keys())
def test_phones_are_fictional_lines_of_a_local_area_code(code: str) -> None:
    for listing in listings_for_zip(code):
        if listing.phone is None:
            continue
        match = PHONE.match(listing.phone)
        assert match, listing.phone

        # A branch on the main line shows the area code of the head office.
        offices = {listing.postal_code, *re.findall(r"\d{5}", listing.firm_id)}
        places = [gazetteer.lookup(office) for office in offices]
        local_codes = {c for p in places if p for c in gazetteer.area_codes(p)}
        assert match["area"] in local_codes, (listing.phone, local_codes)


def test_listing_rows_are_well_formed(denver: list[Listing]) -> None:
    assert len({x.listing_id for x in denver}) == len(denver)
    for listing in denver:
        place = gazetteer.lookup(listing.postal_code)
        assert place is not None
        assert re.fullmatch(rf"dir-{listing.postal_code}-\d{{3}}", listing.listing_id)
        assert listing.listing_url.startswith(
            f"https://directory.leadgen.example/co/{listing.postal_code}/"
        )
        assert listing.city in (place.city, *place.acceptable_cities)
        assert listing.state == place.state == "CO"
        assert listing.summary.endswith(".")


def test_metro_firms_have_listings_in_several_zips(
    denver_by_firm: dict[str, list[Listing]],
) -> None:
    spread = {
        firm: {x.postal_code for x in listings}
        for firm, listings in denver_by_firm.items()
    }

    assert sum(len(zips) >= 2 for zips in spread.values()) >= 10
    assert max(len(zips) for zips in spread.values()) >= 4


@pytest.mark.parametrize(
    "field",
    ["name", "website", "phone", "street_address"],
    ids=["name", "website", "phone", "street"],
)
def test_branches_of_one_firm_are_written_differently(
    denver_by_firm: dict[str, list[Listing]], field: str
) -> None:
    branched = [rows for rows in denver_by_firm.values() if len(rows) >= 2]
    varied = [rows for rows in branched if len({getattr(x, field) for x in rows}) > 1]

    assert len(varied) >= len(branched) // 3


def test_nearby_firms_never_share_a_domain(denver: list[Listing]) -> None:
    firms_by_host: defaultdict[str, set[str]] = defaultdict(set)
    for listing in denver:
        host = _host(listing.website or "").removeprefix("www.")
        if host.endswith(".example"):
            firms_by_host[host].add(listing.firm_id)

    assert firms_by_host
    assert {host: f for host, f in firms_by_host.items() if len(f) > 1} == {}


def test_some_different_firms_share_a_name_word(
    denver_by_firm: dict[str, list[Listing]],
) -> None:
    firms_by_word: defaultdict[str, set[str]] = defaultdict(set)
    for firm, listings in denver_by_firm.items():
        firms_by_word[listings[0].name.split()[0].casefold()].add(firm)

    assert any(len(firms) >= 2 for firms in firms_by_word.values())


def test_some_listings_miss_the_usual_criteria(denver: list[Listing]) -> None:
    categories = {x.category for x in denver}
    residential = [x for x in denver if x.category == CATEGORY_RESIDENTIAL]
    small = [x for x in residential if x.units_managed and x.units_managed < 50]
    large = [x for x in residential if x.units_managed and x.units_managed >= 50]

    assert categories == {
        CATEGORY_RESIDENTIAL,
        CATEGORY_COMMERCIAL,
        CATEGORY_HOA,
        CATEGORY_BROKERAGE,
    }
    assert len(residential) > len(denver) / 2
    assert small and len(large) > len(small)


@pytest.mark.parametrize(
    "field", ["website", "phone", "street_address", "units_managed"]
)
def test_some_fields_are_missing_now_and_then(
    denver: list[Listing], field: str
) -> None:
    missing = [x for x in denver if getattr(x, field) is None]

    assert 0 < len(missing) < len(denver) / 2


@pytest.mark.parametrize(
    "code",
    ["00000", "99999", "8020", "802020", "abcde", "", "80201", "00501"],
    ids=["zeros", "unused", "short", "long", "letters", "empty", "po-box", "unique"],
)
def test_unknown_or_non_standard_zips_give_nothing(code: str) -> None:
    assert listings_for_zip(code) == []
    assert search_directory([code]) == []


def test_zip_plus_four_and_spaces_mean_the_five_digit_zip() -> None:
    expected = listings_for_zip("80202")

    assert listings_for_zip(" 80202-1234 ") == expected
    assert search_directory("80202") == search_directory(["80202"])


@pytest.mark.parametrize(
    ("zip_codes", "areas"),
    [([], ["lakewood, co"]), (["80202"], ["LAKEWOOD"])],
    ids=["city-with-state", "state-of-the-zips"],
)
def test_areas_resolve_through_acceptable_city_names(
    zip_codes: list[str], areas: list[str]
) -> None:
    # USPS files Lakewood, CO under Denver; only its acceptable name says so.
    found = search_directory(zip_codes, areas)

    assert "80226" in {x.postal_code for x in found}
    assert {x.state for x in found} == {"CO"}


def test_area_names_alone_match_every_state() -> None:
    found = search_directory([], ["Lakewood"])

    assert {"CO", "NJ", "OH", "WA"} <= {x.state for x in found}


def test_unknown_areas_are_ignored() -> None:
    assert search_directory(["80202"], ["Nowhereville"]) == search_directory(["80202"])
    assert search_directory([], ["Nowhereville"]) == []


def test_search_merges_zips_without_repeats_best_first() -> None:
    found = search_directory(["80203", "80202", "80203"], ["Nowhereville"])
    expected = listings_for_zip("80202") + listings_for_zip("80203")

    assert sorted(x.listing_id for x in found) == sorted(x.listing_id for x in expected)
    ranks = [
        (x.units_managed is None, -(x.units_managed or 0), x.name.casefold())
        for x in found
    ]
    assert ranks == sorted(ranks)
    assert found[0].units_managed == max(x.units_managed or 0 for x in found)


@pytest.mark.parametrize("limit", [0, 1, 5], ids=["zero", "one", "five"])
def test_search_limit_keeps_the_best(limit: int) -> None:
    everything = search_directory(DENVER[:3])

    assert search_directory(DENVER[:3], limit=limit) == everything[:limit]


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        search_directory(["80202"], limit=-1)


@pytest.mark.parametrize("word", ["Summit", "Aspen Creek", "Lakewood"])
def test_domain_spellings_of_different_kinds_or_tiles_never_collide(
    word: str,
) -> None:
    spellings = [
        directory._domain(word, kind, (tile // 8, tile % 8))
        for kind in directory._KINDS
        for tile in range(64)
    ]

    assert len(set(spellings)) == len(spellings)
