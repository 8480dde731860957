"""Time deduplication on 1,000, 10,000 and 100,000 synthetic records.

The records are generated deterministically: fictional companies (``.example``
domains, 555-01xx phone numbers) in forty cities, each listed one to four times
with the variants agents produce (legal suffixes, abbreviations, capitals, URL
and phone formats, missing fields), plus branches sharing a domain, switchboards
shared by unrelated firms, and brand names reused in other cities. Each size is
timed from raw records to clusters with the normalisation caches emptied first;
the one-time cost of loading the suffix list, phone metadata and ZIP gazetteer
is paid before timing and reported apart. Pairwise precision and recall against
the generator's truth are printed as a sanity check, then one JSON line.

Usage, from the repository root::

    python benchmarks/dedup_scale.py [sizes...]
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter, defaultdict
from functools import cache

import phonenumbers

from leadgen import normalize
from leadgen.dedup import Record, cluster

SIZES = (1_000, 10_000, 100_000)
TARGET_SECONDS_100K = 10.0
SEED = 20240611

FIRST = (
    "Aspen Birch Cedar Summit Granite Willow Juniper Sterling Harbor Meadow Prairie "
    "Canyon Ridge Falcon Eagle Copper Silver Golden Maple Oak Pine Spruce Alder "
    "Elm Cobalt Crimson Indigo Amber Beacon Keystone Liberty Pioneer Frontier "
    "Heritage Legacy Majestic Noble Regal Royal Sunrise Sunset Horizon Vista "
    "Lakeside Riverside Hillside Parkside Northstar Evergreen Bluebird Redwood"
).split()
SECOND = (
    "Creek Peak Valley Park Point Grove Springs Hills Trail Crossing Landing Bay "
    "Mesa Ridge Field Stone Brook Haven Gate Bridge Harbor Lane Square Commons"
).split()
KINDS = (
    "Property Management|Properties|Realty|Residential|Rentals|Dental|Plumbing|"
    "Roofing|Law Group|Accounting|Landscaping|Auto Repair|Insurance Agency|"
    "Veterinary Clinic|Bakery|Electric|Painting|Cleaning Services|Fitness"
).split("|")
MIDDLE = (
    "North South East West Upper Lower Grand Little Old New High Blue Green "
    "Red White Gold Iron Stone Twin Lone Big Clear"
).split()
# Real cities with three of their ZIP codes, so the ZIP gazetteer agrees.
CITIES = [
    ("Houston", "TX", ("77002", "77003", "77004")),
    ("San Antonio", "TX", ("78201", "78202", "78203")),
    ("Dallas", "TX", ("75201", "75202", "75203")),
    ("Austin", "TX", ("78701", "78702", "78703")),
    ("Denver", "CO", ("80202", "80203", "80204")),
    ("Colorado Springs", "CO", ("80902", "80903", "80904")),
    ("Fort Worth", "TX", ("76102", "76103", "76104")),
    ("El Paso", "TX", ("79901", "79902", "79903")),
    ("Corpus Christi", "TX", ("78401", "78402", "78404")),
    ("Lubbock", "TX", ("79401", "79402", "79403")),
    ("Amarillo", "TX", ("79101", "79102", "79103")),
    ("Arlington", "TX", ("76001", "76002", "76005")),
    ("Aurora", "CO", ("80010", "80011", "80012")),
    ("Littleton", "CO", ("80120", "80121", "80122")),
    ("Tyler", "TX", ("75701", "75702", "75703")),
    ("Waco", "TX", ("76701", "76704", "76705")),
    ("Beaumont", "TX", ("77701", "77702", "77703")),
    ("Spring", "TX", ("77373", "77379", "77380")),
    ("Conroe", "TX", ("77301", "77302", "77303")),
    ("Plano", "TX", ("75023", "75024", "75025")),
    ("Pueblo", "CO", ("81001", "81003", "81004")),
    ("Wichita Falls", "TX", ("76301", "76302", "76305")),
    ("Denton", "TX", ("76201", "76205", "76207")),
    ("Grand Junction", "CO", ("81501", "81503", "81504")),
    ("Irving", "TX", ("75038", "75039", "75060")),
    ("Midland", "TX", ("79701", "79703", "79705")),
    ("Odessa", "TX", ("79761", "79762", "79763")),
    ("Pasadena", "TX", ("77502", "77503", "77504")),
    ("Abilene", "TX", ("79601", "79602", "79603")),
    ("Arvada", "CO", ("80002", "80003", "80004")),
    ("Boulder", "CO", ("80301", "80302", "80303")),
    ("Bryan", "TX", ("77801", "77802", "77803")),
    ("Fort Collins", "CO", ("80521", "80524", "80525")),
    ("Garland", "TX", ("75040", "75041", "75042")),
    ("Laredo", "TX", ("78040", "78041", "78043")),
    ("Longview", "TX", ("75601", "75602", "75603")),
    ("Englewood", "CO", ("80110", "80111", "80112")),
    ("Frisco", "TX", ("75033", "75034", "75035")),
    ("Grand Prairie", "TX", ("75050", "75051", "75052")),
    ("Katy", "TX", ("77449", "77450", "77493")),
]
SUFFIXES = ("", "", "", ", LLC", " Inc.", " L.L.C.", ", Co.")


@cache
def area_codes() -> tuple[int, ...]:
    """US area codes for which the fictional 555-01xx range is well formed."""
    codes = []
    for area in range(201, 990):
        number = phonenumbers.parse(f"{area}5550100", "US")
        if phonenumbers.region_code_for_number(number) == "US":
            codes.append(area)
    return tuple(codes)


def phone_number(index: int) -> str:
    codes = area_codes()
    area = codes[index // 100 % len(codes)]
    return f"{area}55501{index % 100:02d}"


def formatted_phone(digits: str, rng: random.Random) -> str:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    forms = (f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}")
    return rng.choice(forms)


def website(domain: str, rng: random.Random) -> str:
    forms = ("https://www.{}", "http://{}", "{}", "www.{}/contact", "https://{}/about/")
    return rng.choice(forms).format(domain)


def name_variant(name: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.15:
        return name.upper()
    if roll < 0.3:
        return name.replace("Management", "Mgmt").replace("Services", "Svcs")
    return name + rng.choice(SUFFIXES)


def new_name(rng: random.Random, taken: set[str]) -> str:
    """A company name not used before in the state."""
    while True:
        words = [rng.choice(FIRST), rng.choice(SECOND)]
        if rng.random() < 0.5:
            words.insert(0, rng.choice(MIDDLE))
        name = f"{' '.join(words)} {rng.choice(KINDS)}"
        if name not in taken:
            taken.add(name)
            return name


def generate(size: int) -> tuple[list[Record], dict[str, int]]:
    """Return ``size`` records and the true company number of each key.

    State registries keep legal names unique within a state, so names are new
    to their state, except that now and then a brand name is reused by an
    unrelated firm in another city.
    """
    rng = random.Random(SEED + size)
    records: list[Record] = []
    truth: dict[str, int] = {}
    names: dict[str, set[str]] = defaultdict(set)
    placed: list[tuple[str, str, str]] = []
    company = 0
    switchboard = 0
    while len(records) < size:
        company += 1
        city, state, zips = rng.choice(CITIES)
        if placed and rng.random() < 0.02:
            name, old_city, old_state = rng.choice(placed)
            options = [c for c in CITIES if c[1] == old_state and c[0] != old_city]
            city, state, zips = rng.choice(options)
        else:
            name = new_name(rng, names[state])
        placed.append((name, city, state))
        zip_code = rng.choice(zips)
        domain = f"{name.lower().replace(' ', '')}{company}.example"
        digits = phone_number(company)
        street = (
            f"{rng.randint(100, 9999)} {rng.choice(SECOND)} {rng.choice(['St', 'Ave'])}"
        )

        if rng.random() < 0.03:
            # An executive suite: the firm also answers a shared switchboard.
            switchboard += 1
            digits = phone_number(9_000_000 + switchboard // 5)
        has_site = rng.random() < 0.8
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            branch_city, branch_state, branch_zip = city, state, zip_code
            if has_site and rng.random() < 0.05:
                # A branch office elsewhere, listed under the same website.
                branch_city, branch_state, branch_zips = rng.choice(CITIES)
                branch_zip = rng.choice(branch_zips)
            key = str(len(records))
            records.append(
                Record(
                    key=key,
                    name=name_variant(name, rng),
                    website=website(domain, rng)
                    if has_site and rng.random() < 0.8
                    else None,
                    phone=formatted_phone(digits, rng) if rng.random() < 0.85 else None,
                    street_address=street if rng.random() < 0.6 else None,
                    city=branch_city if rng.random() < 0.9 else None,
                    state=branch_state,
                    postal_code=branch_zip if rng.random() < 0.7 else None,
                )
            )
            truth[key] = company
            if len(records) == size:
                break
    return records, truth


def clear_caches() -> None:
    """Empty the normalisation caches so each size is timed from cold strings."""
    for function in (
        normalize.parse_website,
        normalize.normalize_name,
        normalize.normalize_phone,
        normalize.normalize_street,
        normalize.normalize_city,
        normalize.normalize_state,
        normalize.normalize_zip,
        normalize.jaro_winkler,
        normalize._website_of_host,
        normalize._plain_nanp,
    ):
        function.cache_clear()


def pair_scores(
    clusters_keys: list[tuple[str, ...]], truth: dict[str, int]
) -> tuple[float, float]:
    overlap = Counter(
        (i, truth[key]) for i, keys in enumerate(clusters_keys) for key in keys
    )
    by_company: dict[int, int] = defaultdict(int)
    for company in truth.values():
        by_company[company] += 1
    correct = sum(n * (n - 1) // 2 for n in overlap.values())
    predicted = sum(len(keys) * (len(keys) - 1) // 2 for keys in clusters_keys)
    actual = sum(n * (n - 1) // 2 for n in by_company.values())
    return correct / max(predicted, 1), correct / max(actual, 1)


def main(sizes: tuple[int, ...]) -> int:
    started = time.perf_counter()
    warm_records, _ = generate(2_000)
    cluster(warm_records)
    warm_up = time.perf_counter() - started
    print(
        f"one-time load of suffix list, phone metadata and gazetteer: {warm_up:.2f} s"
    )

    results = []
    for size in sizes:
        records, truth = generate(size)
        clear_caches()
        started = time.perf_counter()
        clusters = cluster(records)
        seconds = time.perf_counter() - started
        precision, recall = pair_scores([found.keys for found in clusters], truth)
        results.append(
            {
                "records": size,
                "companies": len(clusters),
                "true_companies": len(set(truth.values())),
                "seconds": round(seconds, 3),
                "us_per_record": round(seconds / size * 1e6, 1),
                "precision": round(precision, 4),
                "recall": round(recall, 4),
            }
        )
        print(
            f"{size:>8,} records -> {len(clusters):>7,} companies "
            f"(truth {len(set(truth.values())):,}) in {seconds:6.2f} s "
            f"({seconds / size * 1e6:5.1f} us/record), "
            f"pairwise precision {precision:.4f} recall {recall:.4f}"
        )

    largest = results[-1]
    growth = largest["us_per_record"] / results[0]["us_per_record"]
    print(f"time per record, largest vs smallest size: x{growth:.2f} (1.0 = linear)")
    met = largest["records"] < 100_000 or largest["seconds"] <= TARGET_SECONDS_100K
    print(
        f"target: 100,000 records in <= {TARGET_SECONDS_100K:.0f} s: "
        + ("met" if met else "NOT met")
    )
    summary = {
        "benchmark": "dedup_scale",
        "warm_up_seconds": round(warm_up, 3),
        "runs": results,
    }
    print(json.dumps(summary))
    return 0 if met else 1


if __name__ == "__main__":
    arguments = tuple(int(size) for size in sys.argv[1:])
    sys.exit(main(arguments or SIZES))
