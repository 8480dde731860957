"""Normalising the fields of business records into comparable keys."""

from __future__ import annotations

import duckdb
import pytest

from leadgen.normalize import (
    Phone,
    core_name,
    is_shared_host,
    jaro_winkler,
    normalize_city,
    normalize_name,
    normalize_phone,
    normalize_state,
    normalize_street,
    normalize_zip,
    parse_website,
    registered_domain,
    zip_cities,
)

# --- websites ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        pytest.param("https://www.acme.example", "acme.example", id="https-www"),
        pytest.param("http://acme.example/", "acme.example", id="http-slash"),
        pytest.param("acme.example/contact", "acme.example", id="bare-with-path"),
        pytest.param("WWW.ACME.EXAMPLE", "acme.example", id="upper-case"),
        pytest.param("https://acme.example:8443/a?b=1#c", "acme.example", id="port"),
        pytest.param("acme.example.", "acme.example", id="trailing-dot"),
        pytest.param("https://denver.acme.example", "acme.example", id="subdomain"),
        pytest.param("www.acme.co.uk/about", "acme.co.uk", id="two-level-suffix"),
        pytest.param("info@acme.example", "acme.example", id="email"),
        pytest.param("mailto:info@acme.example", "acme.example", id="mailto"),
        pytest.param("http//www.acme.example", "acme.example", id="scheme-typo"),
        pytest.param("Website: <acme.example>", "acme.example", id="inside-text"),
        pytest.param("https://user:pw@acme.example/", "acme.example", id="userinfo"),
    ],
)
def test_registered_domain_of_url_forms(text: str, domain: str) -> None:
    assert registered_domain(text) == domain


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("n/a", id="n-a"),
        pytest.param("not a url", id="words"),
        pytest.param("http://192.0.2.10/login", id="ipv4"),
        pytest.param("http://[2001:db8::1]/", id="ipv6"),
        pytest.param("localhost", id="bare-suffix"),
        pytest.param("https://", id="scheme-only"),
    ],
)
def test_registered_domain_of_garbage_is_none(text: str | None) -> None:
    assert registered_domain(text) is None


def test_www_bare_and_path_forms_share_one_host() -> None:
    forms = ["https://www.acme.example", "acme.example/contact", "http://acme.example"]

    websites = [parse_website(form) for form in forms]

    assert {(w.host, w.site_key) for w in websites if w} == {
        ("acme.example", "acme.example")
    }


@pytest.mark.parametrize(
    ("text", "site_key"),
    [
        pytest.param(
            "https://acme.managebuilding.com/Resident/portal/login",
            "acme.managebuilding.com",
            id="buildium-tenant",
        ),
        pytest.param(
            "portal.acme.appfolio.com", "acme.appfolio.com", id="appfolio-nested"
        ),
        pytest.param("acme.wixsite.com/home", "acme.wixsite.com", id="wix-tenant"),
        pytest.param("https://www.managebuilding.com/", None, id="platform-home"),
        pytest.param("https://www.facebook.com/acmepm", None, id="social-page"),
        pytest.param("https://www.yelp.com/biz/acme-denver", None, id="directory"),
        pytest.param("acme@gmail.com", None, id="free-mail"),
    ],
)
def test_shared_hosts_give_a_key_only_for_tenant_subdomains(
    text: str, site_key: str | None
) -> None:
    website = parse_website(text)

    assert website is not None
    assert website.is_shared
    assert website.site_key == site_key


@pytest.mark.parametrize(
    ("host", "shared"),
    [
        pytest.param("facebook.com", True, id="facebook"),
        pytest.param("www.linkedin.com", True, id="linkedin"),
        pytest.param("x.com", True, id="x"),
        pytest.param("maps.google.com", True, id="google-maps"),
        pytest.param("google.de", True, id="google-country-domain"),
        pytest.param("bbb.org", True, id="bbb"),
        pytest.param("www.apartments.com", True, id="apartments"),
        pytest.param("acme.managebuilding.com", True, id="buildium-portal"),
        pytest.param("acme.securecafe.com", True, id="securecafe-portal"),
        pytest.param("acme.business.site", True, id="google-business-site"),
        pytest.param("acme.example", False, id="own-domain"),
        pytest.param("acme-realty.co.uk", False, id="own-domain-co-uk"),
        pytest.param("not a host", False, id="garbage"),
    ],
)
def test_is_shared_host(host: str, shared: bool) -> None:
    assert is_shared_host(host) is shared


# --- names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        pytest.param(
            "Acme Property Mgmt, L.L.C.", "Acme Property Management", id="mgmt-llc"
        ),
        pytest.param(
            "ACME PROPERTY MANAGEMENT INC", "Acme Property Management", id="caps-inc"
        ),
        pytest.param(
            "The Acme Property Management Co.", "Acme Property Management", id="the-co"
        ),
        pytest.param("Acme PM", "Acme Property Management", id="pm"),
        pytest.param("Acme Props", "Acme Properties", id="props"),
        pytest.param("Acme Property Svcs", "Acme Property Services", id="svcs"),
        pytest.param(
            "Smith & Jones Assoc.", "Smith and Jones Associates", id="ampersand"
        ),
        pytest.param("Smith + Jones", "Smith and Jones", id="plus"),
        pytest.param("Delgado Bros. Painting", "Delgado Brothers Painting", id="bros"),
        pytest.param("Acme Real Estate", "Acme Realty", id="real-estate"),
        pytest.param("A.B.C. Realty", "ABC Realty", id="initials"),
        pytest.param("Café Olé", "Cafe Ole", id="accents"),
        pytest.param("O’Brien Homes", "OBrien Homes", id="apostrophe"),
        pytest.param("1st Choice Realty", "First Choice Realty", id="ordinal"),
        pytest.param("St. Vrain Rentals", "Saint Vrain Rentals", id="saint"),
        pytest.param(
            "Rocky Mountain Holdings LLC dba Columbine Rentals",
            "Columbine Rentals",
            id="dba",
        ),
    ],
)
def test_name_variants_normalise_alike(variant: str, canonical: str) -> None:
    assert normalize_name(variant) == normalize_name(canonical)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param("Acme Plumbing", "Acme Dental", id="different-trade"),
        pytest.param("A+ Plumbing", "Plumbing", id="a-plus-kept"),
        pytest.param("Cherry Creek Realty", "Cherry Hills Realty", id="one-word"),
    ],
)
def test_different_names_stay_different(left: str, right: str) -> None:
    assert normalize_name(left) != normalize_name(right)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(None, "", id="none"),
        pytest.param("", "", id="empty"),
        pytest.param("  &  ", "", id="punctuation-only"),
        pytest.param("The Company", "", id="only-article-and-suffix"),
        pytest.param("LLC", "llc", id="lone-suffix-kept"),
    ],
)
def test_names_without_words(name: str | None, expected: str) -> None:
    assert normalize_name(name) == expected


@pytest.mark.parametrize(
    ("name", "core"),
    [
        pytest.param("Acme Property Management", "acme", id="property-management"),
        pytest.param("Summit Realty Group", "summit", id="realty-group"),
        pytest.param("Front Range Residential", "front range", id="two-words"),
        pytest.param("Granite Peak Plumbing", "granite peak plumbing", id="trade-kept"),
        pytest.param("Property Management Services", "", id="all-generic"),
    ],
)
def test_core_name_drops_generic_words(name: str, core: str) -> None:
    assert core_name(normalize_name(name)) == core


# --- phones --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("(303) 555-0123", id="parentheses"),
        pytest.param("303-555-0123", id="dashes"),
        pytest.param("303.555.0123", id="dots"),
        pytest.param("3035550123", id="digits"),
        pytest.param("+1 303 555 0123", id="plus-one"),
        pytest.param("1-303-555-0123", id="leading-one"),
        pytest.param("+1 (303) 555-0123", id="plus-one-parentheses"),
        pytest.param("tel:+1-303-555-0123", id="tel-uri"),
        pytest.param("Call 303 555 0123 today", id="in-text"),
    ],
)
def test_phone_formats_give_one_e164(text: str) -> None:
    assert normalize_phone(text) == Phone(e164="+13035550123", extension=None)


@pytest.mark.parametrize(
    ("text", "extension"),
    [
        pytest.param("303-555-0123 ext. 12", "12", id="ext-dot"),
        pytest.param("(303) 555-0123 x7", "7", id="x"),
        pytest.param("303.555.0123 extension 450", "450", id="extension"),
    ],
)
def test_phone_extension_is_kept_apart(text: str, extension: str) -> None:
    phone = normalize_phone(text)

    assert phone == Phone(e164="+13035550123", extension=extension)


def test_first_of_two_numbers_is_kept() -> None:
    phone = normalize_phone("303-555-0101 / 303-555-0102")

    assert phone is not None and phone.e164 == "+13035550101"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("(246) 555-0142", id="barbados"),
        pytest.param("(758) 555-0100", id="saint-lucia"),
    ],
)
def test_fictional_555_01xx_numbers_are_accepted_outside_the_us(text: str) -> None:
    phone = normalize_phone(text)

    assert phone is not None
    assert phone.e164 == "+1" + "".join(ch for ch in text if ch.isdigit())


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("n/a", id="n-a"),
        pytest.param("555-0123", id="no-area-code"),
        pytest.param("(303) 555-01", id="truncated"),
        pytest.param("(123) 555-0123", id="impossible-area-code"),
        pytest.param("(999) 555-0123", id="unassigned-area-code"),
        pytest.param("call us", id="words"),
    ],
)
def test_invalid_phones_are_none(text: str | None) -> None:
    assert normalize_phone(text) is None


def test_international_numbers_keep_their_country() -> None:
    phone = normalize_phone("+44 20 7946 0958")

    assert phone is not None and phone.e164 == "+442079460958"


# --- addresses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "city"),
    [
        pytest.param("1200 North Main Street", None, id="long-words"),
        pytest.param("1200 N. Main St.", None, id="abbreviated"),
        pytest.param("1200 N Main St, Suite 300", None, id="suite"),
        pytest.param("1200 N Main St Ste 300", None, id="ste"),
        pytest.param("1200 N Main St #300", None, id="hash"),
        pytest.param("Suite 300, 1200 North Main Street", None, id="suite-first"),
        pytest.param("1200 N Main St, Denver, CO 80202", None, id="with-place"),
        pytest.param("1200 N Main Street Denver CO 80202", "Denver", id="one-line"),
    ],
)
def test_street_variants_normalise_alike(address: str, city: str | None) -> None:
    street = normalize_street(address, city)

    assert (street.number, street.street) == ("1200", "n main st")


@pytest.mark.parametrize(
    ("address", "number", "street"),
    [
        pytest.param("12 Oak Ct", "12", "oak ct", id="court-is-not-connecticut"),
        pytest.param(
            "100 Main St NE", "100", "main st ne", id="direction-is-not-state"
        ),
        pytest.param("P.O. Box 44", "44", "po box", id="po-box"),
        pytest.param("One Tabor Center", None, "one tabor ctr", id="no-number"),
        pytest.param("n/a", None, None, id="placeholder"),
    ],
)
def test_street_edge_cases(
    address: str, number: str | None, street: str | None
) -> None:
    normalized = normalize_street(address)

    assert (normalized.number, normalized.street) == (number, street)


@pytest.mark.parametrize(
    ("city", "expected"),
    [
        pytest.param("DENVER", "denver", id="caps"),
        pytest.param("St. Paul", "saint paul", id="saint"),
        pytest.param("Ft Collins", "fort collins", id="fort"),
        pytest.param("Mt. Vernon", "mount vernon", id="mount"),
        pytest.param("Denver, CO", "denver", id="comma-state"),
        pytest.param("Cañon City", "canon city", id="accent"),
        pytest.param("", None, id="empty"),
    ],
)
def test_normalize_city(city: str, expected: str | None) -> None:
    assert normalize_city(city) == expected


@pytest.mark.parametrize(
    ("state", "code"),
    [
        pytest.param("CO", "CO", id="code"),
        pytest.param("co", "CO", id="lower-code"),
        pytest.param("Colorado", "CO", id="name"),
        pytest.param("north carolina", "NC", id="two-word-name"),
        pytest.param("Colo.", None, id="unknown-abbreviation"),
        pytest.param(None, None, id="none"),
    ],
)
def test_normalize_state(state: str | None, code: str | None) -> None:
    assert normalize_state(state) == code


@pytest.mark.parametrize(
    ("text", "zip5"),
    [
        pytest.param("80202", "80202", id="zip5"),
        pytest.param("80202-1234", "80202", id="zip-plus-4"),
        pytest.param("CO 80202", "80202", id="with-state"),
        pytest.param("2134", "02134", id="lost-leading-zero"),
        pytest.param("802", None, id="too-short"),
        pytest.param("802021", None, id="six-digits"),
    ],
)
def test_normalize_zip(text: str, zip5: str | None) -> None:
    assert normalize_zip(text) == zip5


def test_zip_cities_include_usps_acceptable_names() -> None:
    assert {"denver", "lakewood"} <= zip_cities("80226")
    assert zip_cities("00000") == frozenset()


# --- string similarity ---------------------------------------------------------

WORD_PAIRS = [
    ("martha", "marhta"),
    ("management", "managment"),
    ("acme", "apex"),
    ("creek", "crest"),
    ("summit", "summerset"),
    ("dixon", "dicksonx"),
    ("abc", "xyz"),
    ("property", "property"),
]


@pytest.mark.parametrize(
    ("left", "right"), WORD_PAIRS, ids=[f"{a}-{b}" for a, b in WORD_PAIRS]
)
def test_jaro_winkler_agrees_with_duckdb(left: str, right: str) -> None:
    with duckdb.connect() as connection:
        row = connection.execute(
            "select jaro_winkler_similarity(?, ?)", [left, right]
        ).fetchone()
    assert row is not None
    expected = row[0]

    assert jaro_winkler(left, right) == pytest.approx(expected, abs=1e-9)
    assert jaro_winkler(right, left) == pytest.approx(expected, abs=1e-9)


def test_jaro_winkler_bounds() -> None:
    assert jaro_winkler("", "") == 1.0
    assert jaro_winkler("acme", "") == 0.0
    assert 0.9 < jaro_winkler("acme", "acmee") < 1.0
