"""Linking business records into companies, and deduplicating CSV files."""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from leadgen import names
from leadgen.dedup import (
    COMPATIBLE,
    NEAR,
    SIMILAR,
    Cluster,
    Record,
    best_values,
    cluster,
    link,
    name_similarity,
    normalize_record,
)
from leadgen.dedup_csv import DedupInputError, dedup_csv

REPO = Path(__file__).resolve().parent.parent
EVAL_CSV = REPO / "benchmarks" / "data" / "dedup_eval.csv"


def groups(records: list[Record]) -> set[frozenset[str]]:
    """The partition of record keys that :func:`cluster` finds."""
    return {frozenset(found.keys) for found in cluster(records)}


def reasons(records: list[Record]) -> set[str]:
    return {found.reason for found in link(records)}


# --- the failures of earlier systems ---------------------------------------------


@pytest.mark.parametrize(
    "websites",
    [
        pytest.param(("https://www.acme.example", "acme.example"), id="www-vs-bare"),
        pytest.param(("acme.example/contact", "http://acme.example/"), id="path"),
        pytest.param(
            ("HTTPS://ACME.EXAMPLE:443/", "acme.example."), id="case-port-dot"
        ),
        pytest.param(("info@acme.example", "https://acme.example"), id="email"),
    ],
)
def test_url_forms_of_one_domain_are_one_company(websites: tuple[str, str]) -> None:
    records = [
        Record(
            "a", name="Acme Property Management", website=websites[0], city="Denver"
        ),
        Record("b", name="Acme Property Mgmt, LLC", website=websites[1], city="Denver"),
    ]

    assert groups(records) == {frozenset({"a", "b"})}
    assert reasons(records) == {"domain+name"}


def test_tenant_portal_and_own_site_are_one_company() -> None:
    records = [
        Record(
            "site",
            "Aspen Grove Property Management",
            "https://aspengrovepm.example",
            "(303) 555-0101",
            city="Denver",
            state="CO",
        ),
        Record(
            "portal",
            "Aspen Grove PM",
            "https://aspengrove.managebuilding.com/Resident",
            "303.555.0101",
            city="Denver",
            state="CO",
        ),
        Record(
            "portal-2",
            "Aspen Grove Property Management",
            "aspengrove.managebuilding.com",
            city="Denver",
            state="CO",
        ),
    ]

    found = cluster(records)

    assert [set(c.keys) for c in found] == [{"site", "portal", "portal-2"}]
    assert {link.reason for link in found[0].links} == {"portal+name", "phone+name"}


@pytest.mark.parametrize(
    "shared",
    [
        pytest.param(
            ("acme.managebuilding.com", "zenith.managebuilding.com"), id="portal"
        ),
        pytest.param(
            ("facebook.com/acmepm", "facebook.com/zenithhomes"), id="facebook"
        ),
        pytest.param(("yelp.com/biz/acme", "yelp.com/biz/zenith"), id="yelp"),
        pytest.param(("acme@gmail.com", "zenith@gmail.com"), id="free-mail"),
        pytest.param(
            ("www.managebuilding.com", "www.managebuilding.com"), id="platform"
        ),
    ],
)
def test_firms_on_one_shared_host_stay_apart(shared: tuple[str, str]) -> None:
    records = [
        Record("a", name="Acme Rentals", website=shared[0], city="Denver"),
        Record("b", name="Zenith Homes", website=shared[1], city="Denver"),
    ]

    assert groups(records) == {frozenset({"a"}), frozenset({"b"})}


def test_a_shared_switchboard_never_links_differently_named_firms() -> None:
    switchboard = "(303) 555-0150"
    names = [
        "Birch Lane Realty",
        "Copperleaf Law Group",
        "Westward Accounting",
        "Harbor Point Insurance",
        "Birch Lane Dental",
    ]
    records = [
        Record(
            str(i),
            name=name,
            phone=switchboard,
            street_address=f"1550 Wewatta St, Suite {i}00",
            city="Denver",
            postal_code="80202",
        )
        for i, name in enumerate(names)
    ]

    assert len(cluster(records)) == len(names)
    assert link(records) == []


def test_same_brand_in_two_cities_with_own_sites_is_two_firms() -> None:
    records = [
        Record(
            "den-1",
            "Summit Property Management",
            "summitpmdenver.example",
            "(303) 555-0106",
            "1776 Lincoln St",
            "Denver",
            "CO",
            "80203",
        ),
        Record("den-2", "Summit Property Mgmt", phone="303-555-0106", city="Denver"),
        Record(
            "bou-1",
            "Summit Property Management",
            "summitboulder.example",
            "(303) 555-0107",
            "1942 Broadway",
            "Boulder",
            "CO",
            "80302",
        ),
        Record("bou-2", "Summit Property Management", city="Boulder", state="CO"),
    ]

    assert groups(records) == {
        frozenset({"den-1", "den-2"}),
        frozenset({"bou-1", "bou-2"}),
    }


def test_same_brand_and_domain_in_two_cities_is_one_company() -> None:
    records = [
        Record(
            "den",
            "Front Range Residential",
            "frontrangeresidential.example",
            "(303) 555-0108",
            city="Denver",
            state="CO",
        ),
        Record(
            "foco",
            "Front Range Residential - Fort Collins",
            "frontrangeresidential.example/fort-collins",
            "(970) 555-0101",
            city="Fort Collins",
            state="CO",
        ),
    ]

    assert groups(records) == {frozenset({"den", "foco"})}
    assert reasons(records) == {"domain+name"}


def test_same_name_without_websites_in_two_states_is_two_firms() -> None:
    records = [
        Record(
            "tx",
            "Pinnacle Property Management",
            phone="(512) 555-0105",
            city="Austin",
            state="TX",
        ),
        Record(
            "oh",
            "Pinnacle Property Management",
            phone="(614) 555-0101",
            city="Columbus",
            state="OH",
        ),
    ]

    assert len(cluster(records)) == 2


def test_branches_sharing_a_main_line_are_one_company() -> None:
    records = [
        Record(
            "aurora",
            "Keystone Rental Services",
            phone="(720) 555-0101",
            street_address="15000 E Mississippi Ave",
            city="Aurora",
            state="CO",
        ),
        Record(
            "littleton",
            "Keystone Rental Svcs",
            phone="720-555-0101 x2",
            street_address="8000 S Broadway",
            city="Littleton",
            state="CO",
        ),
    ]

    assert groups(records) == {frozenset({"aurora", "littleton"})}
    assert reasons(records) == {"phone+name"}


def test_franchisees_with_own_sites_sharing_a_booking_line_stay_apart() -> None:
    booking = "(720) 555-0150"
    records = [
        Record(
            "aur",
            "Handy Hound Pet Grooming of Aurora",
            "handyhound-aurora.example",
            booking,
            city="Aurora",
            state="CO",
        ),
        Record(
            "arv",
            "Handy Hound Pet Grooming of Arvada",
            "handyhound-arvada.example",
            booking,
            city="Arvada",
            state="CO",
        ),
        Record(
            "loose",
            "Handy Hound Pet Grooming",
            None,
            booking,
            city="Aurora",
            state="CO",
        ),
    ]

    found = groups(records)

    assert frozenset({"aur", "arv"}) not in found
    assert not any({"aur", "arv"} <= group for group in found)
    assert frozenset({"aur", "loose"}) in found


def test_a_record_without_a_site_cannot_chain_two_firms() -> None:
    records = [
        Record(
            "x",
            "Elite Cleaning Services",
            "eliteclean.example",
            city="Denver",
            state="CO",
            postal_code="80202",
        ),
        Record(
            "y",
            "Elite Cleaning Services",
            "elitecleaningdenver.example",
            city="Denver",
            state="CO",
            postal_code="80202",
        ),
        Record(
            "z",
            "Elite Cleaning Services",
            city="Denver",
            state="CO",
            postal_code="80202",
        ),
    ]

    found = groups(records)

    assert not any({"x", "y"} <= group for group in found)
    assert len(found) == 2


@pytest.mark.parametrize(
    ("left", "right", "reason"),
    [
        pytest.param(
            Record(
                "a",
                "Prairie Dog Pest Control",
                phone="(720) 555-0129",
                street_address="2300 South Chambers Road",
                city="Aurora",
            ),
            Record(
                "b",
                "Prairie Dog Pest Control Inc",
                phone="(720) 555-0130",
                street_address="2300 S Chambers Rd Ste 4",
                city="Aurora",
            ),
            "name+street",
            id="street",
        ),
        pytest.param(
            Record("a", "Foothills Realty Group", city="Lakewood", postal_code="80226"),
            Record("b", "Foothills Real Estate Group", postal_code="80226"),
            "name+zip",
            id="zip",
        ),
        pytest.param(
            Record("a", "Foothills Realty Group", city="Lakewood", state="CO"),
            Record("b", "Foothills Realty Group", city="Denver", postal_code="80226"),
            "name+city",
            id="usps-city-name",
        ),
        pytest.param(
            Record("a", "Evergreen Property Management", phone="303-555-0111"),
            Record("b", "Evergreen Proprety Managment", phone="(303) 555-0111"),
            "phone+name",
            id="typos",
        ),
        pytest.param(
            Record("a", "Mile High Rentals", "milehighrentals.example"),
            Record("b", "MHR Property Services", "https://milehighrentals.example"),
            "domain+name",
            id="acronym",
        ),
        pytest.param(
            Record("a", "Peak View Rentals", "peakviewrentals.appfolio.com/listings"),
            Record("b", "Peakview Rentals LLC", "https://peakviewrentals.appfolio.com"),
            "portal+name",
            id="compound-word",
        ),
        pytest.param(
            Record("a", "Highland Apartments", "acme.example", "303-555-0190"),
            Record("b", "Acme Property Management", "acme.example", "303 555 0190"),
            "domain+phone",
            id="unrelated-name-same-site-and-phone",
        ),
    ],
)
def test_weaker_evidence_links_with_its_reason(
    left: Record, right: Record, reason: str
) -> None:
    assert [
        (found.left, found.right, found.reason) for found in link([left, right])
    ] == [("a", "b", reason)]


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param(
            Record(
                "a",
                "Granite Peak Dental",
                phone="(303) 555-0141",
                street_address="400 Elm St, Suite 100",
                city="Golden",
            ),
            Record(
                "b",
                "Granite Peak Plumbing",
                phone="(303) 555-0142",
                street_address="400 Elm St, Suite 200",
                city="Golden",
            ),
            id="trades-in-one-building",
        ),
        pytest.param(
            Record("a", "Summit Realty", city="Denver", state="CO"),
            Record("b", "Summit Property Management", city="Denver", state="CO"),
            id="shared-word-only",
        ),
        pytest.param(
            Record("a", "Acme Rentals", street_address="100 Main St", city="Denver"),
            Record("b", "Acme Rentals", street_address="100 Main St", city="Boise"),
            id="same-street-other-city",
        ),
        pytest.param(
            Record(
                "a",
                "Elite Cleaning Services",
                phone="(720) 555-0127",
                city="Denver",
                postal_code="80202",
            ),
            Record(
                "b",
                "Elite Cleaning Services",
                phone="(720) 555-0128",
                city="Denver",
                postal_code="80219",
            ),
            id="same-name-city-other-phone-and-zip",
        ),
        pytest.param(
            Record("a", "Acme Property Management", "acme.example"),
            Record("b", "Zenith Homes", "acme.example"),
            id="same-site-unrelated-names-only",
        ),
        pytest.param(
            Record("a", "Acme Rentals"), Record("b", "Acme Rentals"), id="name-only"
        ),
    ],
)
def test_insufficient_evidence_does_not_link(left: Record, right: Record) -> None:
    assert link([left, right]) == []


# --- name similarity -------------------------------------------------------------


def similarity(left: str, right: str, city: str | None = None) -> float | None:
    return name_similarity(
        normalize_record(Record("a", left, city=city)),
        normalize_record(Record("b", right, city=city)),
    )


@pytest.mark.parametrize(
    ("left", "right", "low", "high"),
    [
        pytest.param("Acme Rentals", "ACME Rentals, LLC", 1.0, 1.0, id="same-name"),
        pytest.param(
            "Acme Property Management", "Acme Properties", NEAR, 1.0, id="contained"
        ),
        pytest.param(
            "Evergreen Property Management",
            "Evergreen Proprety Managment",
            SIMILAR,
            1.0,
            id="typos",
        ),
        pytest.param("Peak View Rentals", "Peakview Rentals", 1.0, 1.0, id="compound"),
        pytest.param(
            "Mile High Rentals", "MHR", COMPATIBLE, SIMILAR - 0.01, id="acronym"
        ),
        pytest.param("Acme Plumbing", "Acme Dental", 0.0, 0.5, id="other-trade"),
        pytest.param(
            "Summit Realty",
            "Summit Property Management",
            0.0,
            NEAR - 0.01,
            id="shared-word-only",
        ),
        pytest.param(
            "Elkhorn Residential",
            "Pioneer Residential Group",
            0.0,
            0.5,
            id="generic-word-only",
        ),
        pytest.param(
            "Acme Acme Rentals", "Acme Rentals", 0.5, NEAR - 0.01, id="repeated-word"
        ),
    ],
)
def test_name_similarity(left: str, right: str, low: float, high: float) -> None:
    score = similarity(left, right)

    assert score is not None
    assert low <= score <= high


def test_city_words_in_a_name_weigh_like_generic_words() -> None:
    left, right = "Denver Property Management", "Property Management"
    in_denver = similarity(left, right, city="Denver")
    elsewhere = similarity(left, right, city="Boise")

    assert in_denver is not None and elsewhere is not None
    assert in_denver >= SIMILAR > elsewhere


def random_name(rng: random.Random) -> str:
    words = (
        "acme peak view peakview evergreen evergren summit sumit elkhorn pioneer "
        "denver aurora fort collins mile high mhr ab co property management "
        "managment group rental realty"
    ).split()
    return " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))


def test_shortcuts_agree_with_the_full_comparison() -> None:
    # The fast path for names whose words match exactly or not at all, and the
    # test that lets a merge skip a pair, must agree with the word-by-word search.
    rng = random.Random(7)
    cities = ["denver", "aurora", "fort collins", None]
    for _ in range(5000):
        left, right = random_name(rng), random_name(rng)
        left_city, right_city = rng.choice(cities), rng.choice(cities)
        places = frozenset(f"{left_city or ''} {right_city or ''}".split())
        full = names._fuzzy_similarity(left.split(), right.split(), places)
        expected = 1.0 if left == right else full

        assert names.similarity(left, right, left_city, right_city) == expected
        for floor in (COMPATIBLE, SIMILAR, NEAR):
            if expected >= floor:
                assert names.could_reach(left, right, floor), (left, right, floor)


# --- clusters and company ids ------------------------------------------------------


def eval_records() -> tuple[list[Record], dict[str, str]]:
    """The labelled evaluation set as records keyed by line, and its labels."""
    records, labels = [], {}
    with EVAL_CSV.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            key = f"line {number}"
            records.append(
                Record(
                    key,
                    row["name"] or None,
                    row["website"] or None,
                    row["phone"] or None,
                    row["address"] or None,
                    row["city"] or None,
                    row["state"] or None,
                    row["zip"] or None,
                )
            )
            labels[key] = row["entity_id"]
    return records, labels


def test_company_ids_do_not_depend_on_row_order() -> None:
    records, _ = eval_records()
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)

    first = {(c.company_id, c.keys) for c in cluster(records)}
    second = {(c.company_id, c.keys) for c in cluster(shuffled)}

    assert first == second
    assert all(re.fullmatch(r"co_[0-9a-f]{12}", company) for company, _ in first)
    assert len({company for company, _ in first}) == len(first)


def test_company_id_comes_from_content_not_keys() -> None:
    base = [Record("1", "Acme Rentals", "acme.example"), Record("2", "Zenith Homes")]
    renamed = [
        Record("x9", "Acme Rentals", "www.acme.example/contact"),
        Record("y7", "Zenith Homes"),
    ]

    assert {c.company_id for c in cluster(base)} == {
        c.company_id for c in cluster(renamed)
    }


def test_company_keeps_its_id_when_a_siteless_listing_joins() -> None:
    site = Record("1", "Acme Rentals", "acme.example", "303-555-0170", city="Denver")
    extra = Record("2", "Acme Rentals LLC", phone="(303) 555-0170", city="Denver")

    before = cluster([site])
    after = cluster([site, extra])

    assert len(after) == 1
    assert after[0].company_id == before[0].company_id


def test_unlinked_clusters_with_one_identity_get_different_ids() -> None:
    records = [Record("1", "Acme Rentals"), Record("2", "Acme Rentals")]

    found = cluster(records)

    assert len(found) == 2
    assert found[0].company_id != found[1].company_id


def test_every_cluster_is_explained_by_its_links() -> None:
    records, _ = eval_records()

    for found in cluster(records):
        assert len(found.links) == len(found.keys) - 1
        joined = {key for link in found.links for key in (link.left, link.right)}
        assert len(found.keys) == 1 or joined == set(found.keys)


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        cluster([Record("1", "Acme"), Record("1", "Zenith")])


def test_evaluation_set_meets_the_quality_targets() -> None:
    records, labels = eval_records()

    found = cluster(records)

    overlap = Counter((c.company_id, labels[key]) for c in found for key in c.keys)
    correct = sum(n * (n - 1) // 2 for n in overlap.values())
    predicted = sum(len(c.keys) * (len(c.keys) - 1) // 2 for c in found)
    actual = sum(n * (n - 1) // 2 for n in Counter(labels.values()).values())
    precision, recall = correct / predicted, correct / actual
    assert precision >= 0.98
    assert 2 * precision * recall / (precision + recall) >= 0.97


def test_a_huge_switchboard_and_a_huge_franchise_stay_fast_and_right() -> None:
    switchboard = [
        Record(f"s{i}", f"Tenant Firm {i:03d} Consulting", phone="(303) 555-0199")
        for i in range(400)
    ]
    franchise = [
        Record(
            f"f{i}",
            "Alpine Lock & Key",
            f"alpinelockandkey.example/{i}",
            city=f"Town {i}",
        )
        for i in range(400)
    ]

    found = cluster(switchboard + franchise)

    assert len(found) == 401
    assert max(len(c.keys) for c in found) == 400


# --- normalised records and best values ------------------------------------------


def test_normalize_record_keys() -> None:
    record = Record(
        "7",
        "The Acme Property Mgmt, LLC",
        "https://acme.managebuilding.com/x",
        "+1 (303) 555-0123 ext. 9",
        "1200 N. Main Street, Suite 3",
        "St. Paul",
        "Minnesota",
        "55101-1234",
    )

    normalized = normalize_record(record)

    assert (normalized.name_norm, normalized.name_core) == (
        "acme property management",
        "acme",
    )
    assert (normalized.domain, normalized.host) == (
        "managebuilding.com",
        "acme.managebuilding.com",
    )
    assert normalized.domain_is_shared and normalized.own_domain is None
    assert normalized.site_key == "acme.managebuilding.com"
    assert (normalized.phone_e164, normalized.phone_ext) == ("+13035550123", "9")
    assert (normalized.street_number, normalized.street_norm) == ("1200", "n main st")
    assert (normalized.city, normalized.state, normalized.postal_code) == (
        "saint paul",
        "MN",
        "55101",
    )


def test_best_values_prefer_own_site_common_name_and_complete_address() -> None:
    records = [
        Record(
            "1",
            "ACME PROPERTY MANAGEMENT",
            "https://www.facebook.com/acmepm",
            "303.555.0101",
            city="denver",
        ),
        Record(
            "2",
            "Acme Property Management",
            "http://www.acme.example/contact",
            "(303) 555-0101",
            "1550 Larimer St, Suite 400",
            "Denver",
            "Colorado",
            "80202-1234",
        ),
        Record(
            "3",
            "Acme Property Management",
            "acme.managebuilding.com",
            "(303) 555-0199",
            city="Denver",
            state="CO",
        ),
        Record("4", "Acme PM", "www.acme.example", None, city="Boulder"),
    ]

    assert best_values(records) == {
        "name": "Acme Property Management",
        "website": "https://www.acme.example",
        "phone": "+13035550101",
        "street_address": "1550 Larimer St, Suite 400",
        "city": "Denver",
        "state": "CO",
        "postal_code": "80202",
    }


def test_best_values_fall_back_to_portal_then_social_page() -> None:
    portal = [
        Record("1", "Peak View Rentals", "https://peakview.appfolio.com/listings")
    ]
    social = [Record("1", "Mesa Rentals", "facebook.com/mesarentals")]

    assert best_values(portal)["website"] == "https://peakview.appfolio.com"
    assert best_values(social)["website"] == "facebook.com/mesarentals"
    assert best_values([Record("1")])["name"] is None


# --- CSV files ---------------------------------------------------------------------


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_dedup_csv_keeps_rows_and_adds_company_ids(tmp_path: Path) -> None:
    source = write(
        tmp_path / "leads.csv",
        "\ufeffCompany Name,URL,Telephone,Street Address,City,State,Zip Code,Notes\n"
        "Acme Property Management,https://www.acme.example,(303) 555-0101,"
        "1550 Larimer St,Denver,CO,80202,first\n"
        '"Acme Property Mgmt, LLC",acme.example/contact,303-555-0101,,'
        'Denver,CO,,"a, b"\n'
        "Zenith Homes,,(303) 555-0150,,Denver,CO,,\n",
    )
    target = tmp_path / "out.csv"

    summary = dedup_csv(source, target)

    rows = read_rows(target)
    assert (summary.rows, summary.companies) == (3, 2)
    assert rows[0] == [
        "Company Name",
        "URL",
        "Telephone",
        "Street Address",
        "City",
        "State",
        "Zip Code",
        "Notes",
        "company_id",
    ]
    assert [row[:-1] for row in rows[1:]] == read_rows(source)[1:]
    assert rows[1][-1] == rows[2][-1] != rows[3][-1]


def test_existing_company_id_column_is_kept(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "company_id,name\nX1,Acme Rentals\n")

    dedup_csv(source, tmp_path / "out.csv")

    rows = read_rows(tmp_path / "out.csv")
    assert rows[0] == ["company_id", "name", "leadgen_company_id"]
    assert rows[1][:2] == ["X1", "Acme Rentals"]
    assert rows[1][2].startswith("co_")


def test_columns_map_unusual_headers(tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.csv",
        "Vendor,Main Line,Where\nAcme Rentals,303-555-0101,Denver\n"
        "Acme Rentals LLC,(303) 555-0101,Denver\n",
    )

    summary = dedup_csv(
        source, tmp_path / "out.csv", columns={"name": "vendor", "phone": "Main Line"}
    )

    assert (summary.rows, summary.companies) == (2, 1)


def test_output_may_replace_the_input(tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.csv", "name,phone\nAcme,303-555-0101\nAcme,3035550101\n"
    )

    dedup_csv(source, source)

    rows = read_rows(source)
    assert rows[0] == ["name", "phone", "company_id"]
    assert rows[1][2] == rows[2][2]


def test_blank_and_short_rows(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "name,phone,city\nAcme\n,,\nZenith,,Denver\n")

    summary = dedup_csv(source, tmp_path / "out.csv")

    rows = read_rows(tmp_path / "out.csv")
    assert summary.rows == 2
    assert rows[1][0] == "Acme" and len(rows[1]) == 4 and rows[1][3].startswith("co_")
    assert rows[2] == ["", "", "", ""]


@pytest.mark.parametrize(
    ("text", "columns", "message"),
    [
        pytest.param(
            "city,state\nDenver,CO\n",
            None,
            r"no name, website or phone column among \['city', 'state'\]",
            id="no-identifying-column",
        ),
        pytest.param(
            "name\nAcme\n",
            {"title": "name"},
            "unknown field 'title'",
            id="unknown-field",
        ),
        pytest.param(
            "name\nAcme\n",
            {"phone": "Tel"},
            "no column 'Tel' for phone",
            id="missing-mapped-column",
        ),
        pytest.param("", None, "empty", id="empty-file"),
        pytest.param(
            "name,phone\nAcme,303-555-0101,extra\n",
            None,
            "data row 1 has 3 cells",
            id="ragged-row",
        ),
    ],
)
def test_unusable_csv_raises_a_typed_error(
    tmp_path: Path, text: str, columns: dict[str, str] | None, message: str
) -> None:
    source = write(tmp_path / "in.csv", text)

    with pytest.raises(DedupInputError, match=message) as error:
        dedup_csv(source, tmp_path / "out.csv", columns=columns)

    assert str(source) in str(error.value)
    assert not (tmp_path / "out.csv").exists()


def test_missing_columns_error_says_how_to_map(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "Vendor,Where\nAcme,Denver\n")

    with pytest.raises(DedupInputError, match=r"columns=\{'name': 'Vendor'\}"):
        dedup_csv(source, tmp_path / "out.csv")


def test_non_utf8_file_raises_a_typed_error(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "name\nCafé Olé\n", encoding="latin-1")

    with pytest.raises(DedupInputError, match="not UTF-8"):
        dedup_csv(source, tmp_path / "out.csv")


def test_malformed_csv_raises_a_typed_error(tmp_path: Path) -> None:
    oversized = "x" * (csv.field_size_limit() + 1)
    source = write(tmp_path / "in.csv", f'name,phone\nAcme,"{oversized}"\n')

    with pytest.raises(DedupInputError, match="not a readable CSV"):
        dedup_csv(source, tmp_path / "out.csv")


def test_output_file_gets_an_ordinary_mode(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "name\nAcme\n")

    dedup_csv(source, tmp_path / "out.csv")

    assert (tmp_path / "out.csv").stat().st_mode & 0o777 == 0o644


def test_missing_file_raises_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(DedupInputError, match="cannot read"):
        dedup_csv(tmp_path / "absent.csv", tmp_path / "out.csv")


def test_clusters_are_sorted_by_smallest_key() -> None:
    found: list[Cluster] = cluster([Record("b", "Zenith"), Record("a", "Acme")])

    assert [c.keys for c in found] == [("a",), ("b",)]
