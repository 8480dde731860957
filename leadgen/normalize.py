"""Normalise the fields of a business record into keys that can be compared.

Agents and spreadsheets write the same company in many ways: ``www.acme.example``
and ``https://acme.example/contact``, ``Acme Property Mgmt, LLC`` and ``ACME
Property Management``, ``(303) 555-0123`` and ``+1 303.555.0123``. Every function
here turns one raw field into a canonical form, returns None for anything that
carries no usable information, and never raises on odd input, because callers
pass through whatever a model or a user wrote. Nothing here reaches the network.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers
import tldextract

from leadgen import gazetteer

# Hosts where many unrelated companies live side by side. A registered domain in
# these sets never identifies a company on its own. The lists are kept by hand:
# a shared host missing from them passes for one company's own domain and would
# merge its tenants, so add any that turn up in agent output.
_SOCIAL = {
    "facebook.com", "fb.com", "fb.me", "instagram.com", "linkedin.com", "lnkd.in",
    "twitter.com", "x.com", "youtube.com", "youtu.be", "tiktok.com",
    "pinterest.com", "nextdoor.com", "threads.net", "linktr.ee", "bit.ly",
}  # fmt: skip
_DIRECTORIES = {
    "yelp.com", "bbb.org", "google.com", "goo.gl", "g.page", "g.co",
    "yellowpages.com", "superpages.com", "manta.com", "mapquest.com",
    "apartments.com", "apartmentguide.com", "rent.com", "zillow.com",
    "trulia.com", "realtor.com", "hotpads.com", "zumper.com", "craigslist.org",
    "angi.com", "angieslist.com", "homeadvisor.com", "thumbtack.com", "houzz.com",
    "porch.com", "foursquare.com", "tripadvisor.com", "chamberofcommerce.com",
    "bizapedia.com", "opencorporates.com", "crunchbase.com", "glassdoor.com",
    "indeed.com", "dexknows.com", "citysearch.com", "loopnet.com", "bing.com",
    "apple.com", "waze.com", "allpropertymanagement.com", "expertise.com",
}  # fmt: skip
# Free mail providers: an address there says nothing about who owns it.
_MAIL = {
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com",
    "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "comcast.net",
    "protonmail.com", "proton.me",
}  # fmt: skip
# Site builders and property-software portals give each customer a subdomain,
# so there the full host (``acme.managebuilding.com``) belongs to one company
# even though the registered domain is shared by thousands.
_TENANT_PLATFORMS = {
    "wixsite.com", "wix.com", "squarespace.com", "godaddysites.com",
    "business.site", "weebly.com", "wordpress.com", "blogspot.com",
    "webflow.io", "carrd.co", "jimdosite.com", "strikingly.com", "site123.me",
    "github.io", "netlify.app", "vercel.app", "myshopify.com",
    "managebuilding.com", "buildium.com", "appfolio.com", "rentmanager.com",
    "propertyware.com", "rentcafe.com", "securecafe.com", "doorloop.com",
    "tenantcloud.com", "rentvine.com", "rentecdirect.com", "entrata.com",
    "residentportal.com", "yardi.com", "hemlane.com", "innago.com",
    "turbotenant.com", "rentredi.com", "showmojo.com", "rently.com",
}  # fmt: skip
_SHARED_DOMAINS = _SOCIAL | _DIRECTORIES | _MAIL | _TENANT_PLATFORMS
# Global brands that also serve from country domains (google.de, facebook.co).
_SHARED_LABELS = {"google", "facebook", "yelp", "linkedin", "instagram", "twitter"}
# Subdomains a platform uses for itself rather than for one customer.
_PLATFORM_SUBDOMAINS = {
    "www", "m", "app", "apps", "portal", "login", "signin", "secure", "my",
    "account", "accounts", "help", "support", "blog", "web", "sites", "maps",
    "business", "mobile", "en", "api", "static", "cdn",
}  # fmt: skip

# Ten NANP digits with optional +1 and the usual punctuation, nothing else.
_PLAIN_NANP = re.compile(
    r"\s*(?:\+?1[\s.-]*)?\(?([2-9]\d\d)\)?[\s.-]*(\d{3})[\s.-]*(\d{4})\s*$"
)
_NO_VALUE = {"", "n/a", "na", "none", "null", "nil", "-", "--", "unknown", "tbd"}
_WWW = re.compile(r"^www\d*\.")
# "http//acme.example" and "https:/acme.example" are common slips.
_SCHEME_TYPO = re.compile(r"^https?:?/+")
# The host of a URL with or without a scheme: after any user name, before any
# port, path, query or fragment. IPv6 literals fail the "." test later.
_HOST = re.compile(r"(?:[a-z][a-z0-9+.-]*://)?/*(?:[^@/?#]*@)?([^:/?#@\s\[\]]+)")
_URL_SEPARATORS = re.compile(r"[\s,;|]+")
_URL_TRIM = "<>()[]{}\"'.,;:!?"


@dataclass(frozen=True)
class Website:
    """The parts of a website that matter for telling companies apart.

    Attributes:
        domain: Registered domain under the public suffix (``acme.example``).
        host: Full host name without a leading ``www.`` (``acme.managebuilding.com``).
        is_shared: True when the registered domain hosts many companies.
        site_key: The company-specific key: the registered domain when it is not
            shared, the full host on a tenant platform, None on social and
            directory sites (a page there names no company by its host).
        homepage: ``https://`` plus the host as written, without path or port.
    """

    domain: str
    host: str
    is_shared: bool
    site_key: str | None
    homepage: str


@dataclass(frozen=True)
class Phone:
    """A valid phone number in E.164 form and its extension, if any."""

    e164: str
    extension: str | None


@cache
def _extractor() -> tldextract.TLDExtract:
    # Built once and lazily: loading the bundled suffix list takes a moment, and
    # the empty URL list keeps the extractor from ever trying the network.
    return tldextract.TLDExtract(
        cache_dir=None,
        suffix_list_urls=(),
        extra_suffixes=["example", "test", "invalid", "localhost"],
    )


@lru_cache(maxsize=65536)
def parse_website(text: str | None) -> Website | None:
    """Return the domain, host and company key of a URL, bare host or email.

    Accepts ``https://www.acme.example:8443/contact?x=1``, ``acme.example/contact``,
    ``acme.example.`` and text with a URL inside it. An email address counts as
    its domain, because a company mailbox names the company's own domain as
    surely as its website does; free mail providers are shared hosts, so a
    ``gmail.com`` address never identifies anyone. IP addresses, bare words and
    placeholders such as ``n/a`` give None.
    """
    if text is None or text.strip().lower() in _NO_VALUE:
        return None

    for token in _URL_SEPARATORS.split(text.strip().lower()):
        website = _parse_token(token.strip(_URL_TRIM))
        if website is not None:
            return website
    return None


def registered_domain(text: str | None) -> str | None:
    """Return the registered domain of a URL, host or email, or None."""
    website = parse_website(text)
    return None if website is None else website.domain


def is_shared_host(text: str) -> bool:
    """Tell whether a host or URL belongs to a site that hosts many companies.

    Social networks, directories, free mail, site builders and property-software
    tenant portals are shared: two companies must never be merged because their
    website is on one of them.
    """
    website = parse_website(text)
    return website is not None and website.is_shared


def _parse_token(token: str) -> Website | None:
    token = _SCHEME_TYPO.sub("http://", token)
    if token.startswith("mailto:"):
        token = token[len("mailto:") :]
    if "@" in token and "/" not in token.split("@", 1)[0]:
        token = token.rsplit("@", 1)[1]

    found = _HOST.match(token)
    return _website_of_host(found.group(1).rstrip(".")) if found else None


@lru_cache(maxsize=65536)
def _website_of_host(written: str) -> Website | None:
    # Cached per host: listings of one company write its URL many ways.
    if "." not in written or _is_ip(written):
        return None
    domain = _extractor()(written).top_domain_under_public_suffix
    if not domain:
        return None

    host = _WWW.sub("", written)
    shared = _is_shared_domain(domain)
    return Website(
        domain=domain,
        host=host,
        is_shared=shared,
        site_key=_site_key(domain, host, shared),
        homepage="https://" + written,
    )


def _is_ip(host: str) -> bool:
    if not (":" in host or host.replace(".", "").isdigit()):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_shared_domain(domain: str) -> bool:
    return domain in _SHARED_DOMAINS or domain.split(".", 1)[0] in _SHARED_LABELS


def _site_key(domain: str, host: str, shared: bool) -> str | None:
    if not shared:
        return domain
    if domain not in _TENANT_PLATFORMS or host == domain:
        return None
    tenant = host[: -len(domain) - 1].rsplit(".", 1)[-1]
    return None if tenant in _PLATFORM_SUBDOMAINS else f"{tenant}.{domain}"


# --- names -------------------------------------------------------------------

_LEGAL_SUFFIXES = {
    "llc", "lc", "inc", "incorporated", "corp", "corporation", "co", "company",
    "ltd", "limited", "lp", "llp", "lllp", "pllc", "pc", "pa", "plc",
}  # fmt: skip
_STOPWORDS = {"the", "and", "of", "at"}
# Abbreviations agents and listings use, and plural forms of generic words: both
# sides of a comparison should spell a word the same way.
_NAME_WORDS = {
    "mgmt": "management", "mgmnt": "management", "mngmt": "management",
    "mgt": "management", "svc": "service", "svcs": "service", "srvc": "service",
    "srvcs": "service", "services": "service", "assoc": "associate",
    "assocs": "associate", "associates": "associate", "prop": "property",
    "props": "property", "ppty": "property", "properties": "property",
    "grp": "group", "intl": "international", "natl": "national",
    "bros": "brothers", "apts": "apartment", "apt": "apartment",
    "apartments": "apartment", "rentals": "rental", "homes": "home",
    "communities": "community", "investments": "investment",
    "holdings": "holding", "partners": "partner", "enterprises": "enterprise",
    "solutions": "solution", "ctr": "center", "centre": "center",
    "mfg": "manufacturing", "dev": "development", "constr": "construction",
    "pm": "property management", "st": "saint", "mt": "mount", "ft": "fort",
    "first": "1st", "second": "2nd", "third": "3rd",
}  # fmt: skip
#: Words that say what kind of business a company is rather than which one it
#: is; they are dropped from the core name and weigh little in similarity.
GENERIC_NAME_WORDS = frozenset(
    {
        "property", "management", "manager", "realty", "group", "service",
        "residential", "apartment", "rental", "leasing", "lease", "home",
        "housing", "community", "investment", "holding", "partner", "associate",
        "enterprise", "solution", "international", "national", "agency",
        "capital", "development", "commercial", "living", "asset", "team",
        "brokerage", "advisors", "company", "real", "estate", "office",
    }
)  # fmt: skip
_APOSTROPHES = re.compile(r"['’`´]")
_SPACED_PLUS = re.compile(r"\s\+\s")
_REAL_ESTATE = re.compile(r"\breal estate\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=131072)
def normalize_name(name: str | None) -> str:
    """Return a company name in a canonical form, or "" when there is none.

    Lowercases, strips accents and punctuation, joins spelled-out initials
    (``A.B.C.`` and ``A B C`` become ``abc``), keeps the trading name after
    ``dba``, drops ``the``/``and``/``&``, trailing legal suffixes (``LLC``,
    ``L.L.C.``, ``Inc``, ``Co``...), and spells abbreviations and plurals of
    generic words one way (``Mgmt`` and ``Management``, ``Props`` and
    ``Properties`` both become the singular word). ``Real Estate`` and ``Realty``
    are treated as one word.
    """
    if name is None:
        return ""
    text = _ascii(name).replace(".", "")
    text = _APOSTROPHES.sub("", text).replace("&", " and ")
    text = _SPACED_PLUS.sub(" and ", text).replace("+", "plus")
    tokens = _join_initials(_NON_WORD.sub(" ", text).split())

    tokens = _after_dba(tokens)
    tokens = _strip_legal_suffixes(tokens)
    text = " ".join(_NAME_WORDS.get(token, token) for token in tokens)
    text = _REAL_ESTATE.sub("realty", text)
    return " ".join(token for token in text.split() if token not in _STOPWORDS)


@lru_cache(maxsize=131072)
def core_name(name_norm: str) -> str:
    """Return the distinctive words of a normalised name ("" if all generic).

    ``acme property management`` and ``acme realty`` share the core ``acme``,
    which is what fuzzy comparison should weigh most.
    """
    return " ".join(w for w in name_norm.split() if w not in GENERIC_NAME_WORDS)


def _ascii(text: str) -> str:
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _join_initials(tokens: list[str]) -> list[str]:
    joined: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if run:
            joined.extend(["".join(run)] if len(run) > 1 else run)
            run = []
        if token:
            joined.append(token)
    return joined


def _after_dba(tokens: list[str]) -> list[str]:
    text = " ".join(tokens)
    for marker in (" dba ", " doing business as "):
        head, found, tail = text.partition(marker)
        if found and tail:
            return tail.split()
    return tokens


def _strip_legal_suffixes(tokens: list[str]) -> list[str]:
    end = len(tokens)
    while end > 1 and tokens[end - 1] in _LEGAL_SUFFIXES:
        end -= 1
    return tokens[:end]


# --- phones ------------------------------------------------------------------


@lru_cache(maxsize=131072)
def normalize_phone(text: str | None) -> Phone | None:
    """Return the first valid phone number in ``text`` as E.164, or None.

    US is the default region, so ``(303) 555-0123``, ``303.555.0123``,
    ``+1 303 555 0123`` and ``1-303-555-0123 ext. 12`` all give ``+13035550123``
    (the extension is kept apart). Truncated or impossible numbers give None.

    Fictional ``555-0100`` to ``555-0199`` numbers, which the project's sample
    data uses, are accepted whenever their area code belongs to a NANP region:
    the bundled metadata already treats them as valid for US area codes, and the
    explicit rule keeps them valid for the others and for future metadata.
    """
    if text is None or not text.strip() or text.strip().lower() in _NO_VALUE:
        return None
    plain = _PLAIN_NANP.match(text)
    if plain:
        return _plain_nanp("".join(plain.groups()))

    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not _acceptable(number):
        number = _first_number_in(text)
    if number is None:
        return None

    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164=e164, extension=number.extension or None)


@lru_cache(maxsize=65536)
def _plain_nanp(digits: str) -> Phone | None:
    # The common case, ten digits in any punctuation and no extension, skips the
    # general parser, and the check runs once per number however it is written.
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))
    return Phone(e164=f"+1{digits}", extension=None) if _acceptable(number) else None


def _first_number_in(text: str) -> phonenumbers.PhoneNumber | None:
    # Handles "303-555-0101 / 303-555-0102" and "Call 303 555 0101 today".
    matcher = phonenumbers.PhoneNumberMatcher(
        text, "US", leniency=phonenumbers.Leniency.POSSIBLE
    )
    for match in matcher:
        if _acceptable(match.number):
            return match.number
    return None


def _acceptable(number: phonenumbers.PhoneNumber) -> bool:
    # Trying the US first is twice as fast as letting the library try every
    # country that shares the +1 prefix.
    return (
        phonenumbers.is_valid_number_for_region(number, "US")
        or phonenumbers.is_valid_number(number)
        or _is_fictional_nanp(number)
    )


def _is_fictional_nanp(number: phonenumbers.PhoneNumber) -> bool:
    digits = str(number.national_number)
    return (
        number.country_code == 1
        and len(digits) == 10
        and digits[3:6] == "555"
        and digits[6:8] == "01"
        and phonenumbers.region_code_for_number(number) is not None
    )


# --- addresses ---------------------------------------------------------------

_STREET_WORDS = {
    "street": "st", "str": "st", "avenue": "ave", "av": "ave", "boulevard": "blvd",
    "road": "rd", "drive": "dr", "lane": "ln", "court": "ct", "place": "pl",
    "parkway": "pkwy", "pky": "pkwy", "highway": "hwy", "circle": "cir",
    "terrace": "ter", "trail": "trl", "square": "sq", "plaza": "plz",
    "expressway": "expy", "freeway": "fwy", "center": "ctr", "centre": "ctr",
    "mount": "mt", "saint": "st", "north": "n", "south": "s", "east": "e",
    "west": "w", "northeast": "ne", "northwest": "nw", "southeast": "se",
    "southwest": "sw", "first": "1st", "second": "2nd", "third": "3rd",
    "fourth": "4th", "fifth": "5th", "sixth": "6th", "seventh": "7th",
    "eighth": "8th", "ninth": "9th", "tenth": "10th",
}  # fmt: skip
_UNIT = re.compile(
    r"(?:\b(?:suite|ste|unit|apt|apartment|room|rm|floor|fl|bldg|building)\b|#)"
    r"\s*[a-z0-9-]*"
)
_TRAILING_ZIP = re.compile(r"\s*\b\d{5}(?:-\d{4})?\s*$")
_HOUSE_NUMBER = re.compile(r"^\d+[a-z]?(?:-\d+)?$")
_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR",
    "california": "CA", "colorado": "CO", "connecticut": "CT", "delaware": "DE",
    "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN",
    "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ",
    "new mexico": "NM", "new york": "NY", "north carolina": "NC",
    "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC",
    "south dakota": "SD", "tennessee": "TN", "texas": "TX", "utah": "UT",
    "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "puerto rico": "PR", "guam": "GU", "virgin islands": "VI",
}  # fmt: skip
_STATE_CODES = frozenset(_STATES.values())
_ZIP = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")


@dataclass(frozen=True)
class Street:
    """A street address reduced to its house number and canonical street.

    Attributes:
        number: The leading house number (``"1200"``, ``"12b"``) or box number.
        street: The street with suffixes and directions abbreviated one way and
            suite or unit designators removed (``"n main st"``, ``"po box"``).
    """

    number: str | None
    street: str | None


@lru_cache(maxsize=131072)
def normalize_street(address: str | None, city: str | None = None) -> Street:
    """Split a street address into house number and canonical street.

    Takes the first comma-separated part that starts with a number, so
    ``Suite 200, 1200 Main Street`` and ``1200 Main St, Ste 200, Denver, CO`` agree.
    Units (suite, ste, #, unit, floor...) are dropped: firms sharing a building
    differ there, but so do listings of one firm. A trailing ZIP, state and, when
    given, ``city`` are cut from one-line addresses written without commas.
    """
    if address is None or address.strip().lower() in _NO_VALUE:
        return Street(None, None)
    text = _APOSTROPHES.sub("", _ascii(address)).replace(".", "")
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        return Street(None, None)
    part = next((p for p in parts if p[0].isdigit()), parts[0])

    part = _cut_place_tail(_UNIT.sub(" ", part), city)
    tokens = _join_initials(_NON_WORD.sub(" ", part).split())
    tokens = [_STREET_WORDS.get(token, token) for token in tokens]
    if tokens[:2] == ["po", "box"] and len(tokens) > 2:
        return Street(tokens[2], "po box")
    if tokens and _HOUSE_NUMBER.match(tokens[0]):
        return Street(tokens[0], " ".join(tokens[1:]) or None)
    return Street(None, " ".join(tokens) or None)


def _cut_place_tail(text: str, city: str | None) -> str:
    # A state code is only cut after a ZIP or a city: on its own it could be a
    # street suffix or direction ("Oak Ct", "Main St NE").
    without_zip = _TRAILING_ZIP.sub("", text).strip()
    city_norm = normalize_city(city)
    words = without_zip.split()
    before_state = " ".join(words[:-1])
    after_city = bool(city_norm) and before_state.endswith(f" {city_norm}")
    if len(words) > 2 and words[-1].upper() in _STATE_CODES:
        if without_zip != text.strip() or after_city:
            words.pop()
    text = " ".join(words)
    if city_norm and text.endswith(f" {city_norm}"):
        text = text[: -len(city_norm) - 1]
    return text


@lru_cache(maxsize=16384)
def normalize_city(city: str | None) -> str | None:
    """Return a city name lowercased, without accents or punctuation.

    ``St. Paul`` and ``Saint Paul`` agree, as do ``Ft``/``Fort`` and
    ``Mt``/``Mount``; a trailing state (``Denver, CO`` or ``Denver CO``) is cut.
    """
    if city is None or city.strip().lower() in _NO_VALUE:
        return None
    text = _APOSTROPHES.sub("", _ascii(city)).replace(".", " ").split(",")[0]
    words = _NON_WORD.sub(" ", text).split()
    if len(words) > 1 and words[-1].upper() in _STATE_CODES:
        words.pop()
    names = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount"}
    return " ".join(names.get(word, word) for word in words) or None


@lru_cache(maxsize=1024)
def normalize_state(state: str | None) -> str | None:
    """Return a two-letter state code from a code or a full name, or None."""
    if state is None:
        return None
    text = " ".join(_NON_WORD.sub(" ", _ascii(state)).split())
    if text.upper() in _STATE_CODES:
        return text.upper()
    return _STATES.get(text)


@lru_cache(maxsize=65536)
def normalize_zip(postal_code: str | None) -> str | None:
    """Return the five-digit ZIP in a postal code or address tail, or None.

    ``80202``, ``80202-1234`` and ``CO 80202`` give ``80202``. A bare four-digit
    value is taken as a ZIP whose leading zero a spreadsheet dropped.
    """
    if postal_code is None:
        return None
    text = postal_code.strip()
    if len(text) == 4 and text.isdigit():
        return "0" + text
    found = _ZIP.search(text)
    return found.group(1) if found else None


@lru_cache(maxsize=65536)
def zip_cities(postal_code: str | None) -> frozenset[str]:
    """Return the normalised city names USPS accepts for a ZIP (may be empty).

    USPS files many suburbs under a neighbouring city, so both the postal name
    and the acceptable names count: ``80226`` gives ``denver`` and ``lakewood``.
    """
    place = gazetteer.lookup(postal_code) if postal_code else None
    if place is None:
        return frozenset()
    names = (place.city, *place.acceptable_cities)
    return frozenset(city for name in names if (city := normalize_city(name)))


# --- comparison --------------------------------------------------------------


@lru_cache(maxsize=262144)
def jaro_winkler(left: str, right: str) -> float:
    """Return the Jaro-Winkler similarity of two strings, from 0 to 1.

    Suited to short words with typos (``managment``/``management``): characters
    count as shared when they appear close to the same position, and a common
    prefix of up to four characters raises the score when it is already high.
    """
    if left == right:
        return 1.0
    if not left or not right:
        return 0.0

    window = max(len(left), len(right)) // 2 - 1
    taken = [False] * len(right)
    left_matches: list[str] = []
    for i, char in enumerate(left):
        for j in range(max(0, i - window), min(len(right), i + window + 1)):
            if not taken[j] and right[j] == char:
                taken[j] = True
                left_matches.append(char)
                break
    if not left_matches:
        return 0.0

    right_matches = [char for j, char in enumerate(right) if taken[j]]
    matches = len(left_matches)
    half_transpositions = sum(
        x != y for x, y in zip(left_matches, right_matches, strict=True)
    )
    jaro = (
        matches / len(left)
        + matches / len(right)
        + (matches - half_transpositions // 2) / matches
    ) / 3

    # Winkler's prefix bonus only applies to strings that are already alike.
    if jaro <= 0.7:
        return jaro
    prefix = 0
    for x, y in zip(left[:4], right[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)
