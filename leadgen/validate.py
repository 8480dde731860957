"""Checks on each candidate an agent returned, before it can become a company.

Agents return rows with empty names, URLs that are not URLs, states that are
not states and companies from outside their region. Such rows stay in the
``candidates`` table with the reason they were dropped, so the quality of
each region can be judged, but they never reach ``companies``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from leadgen import gazetteer
from leadgen.normalize import normalize_state, normalize_zip, parse_website

EMPTY_NAME = "empty_name"
BAD_WEBSITE = "bad_website"
BAD_STATE = "bad_state"
BAD_POSTAL_CODE = "bad_postal_code"
OUTSIDE_REGION = "outside_region"
DUPLICATE_IN_REGION = "duplicate_in_region"


class RegionBounds:
    """Where a region's companies may be: its state and its ZIP codes.

    The ZIP codes are those the config lists plus those of the region's areas
    that the gazetteer knows as places in the state (postal or acceptable city
    names). A region whose areas are all unknown neighbourhood names keeps
    only its listed ZIP codes; a region with neither is not bounded by ZIP.
    """

    def __init__(self, state: str, zip_codes: Iterable[str], areas: Iterable[str]):
        self.state = state
        zips = set(zip_codes)
        for area in areas:
            zips.update(_zips_named(area, state))
        self.zip_codes = frozenset(zips)

    def contains(self, postal_code: str | None, state: str | None) -> bool:
        if state is not None and state != self.state:
            return False
        if postal_code is None or not self.zip_codes:
            return True
        return postal_code in self.zip_codes


def drop_reason(
    name: str | None,
    website: str | None,
    state: str | None,
    postal_code: str | None,
    bounds: RegionBounds | None,
) -> str | None:
    """Why a candidate cannot count, or None when it can."""
    if not name or not re.search(r"\w", name):
        return EMPTY_NAME
    if website and website.strip() and parse_website(website) is None:
        return BAD_WEBSITE

    state_code = normalize_state(state) if state and state.strip() else None
    if state and state.strip() and state_code is None:
        return BAD_STATE
    zip5 = normalize_zip(postal_code) if postal_code and postal_code.strip() else None
    if postal_code and postal_code.strip() and zip5 is None:
        return BAD_POSTAL_CODE

    if bounds is not None and not bounds.contains(zip5, state_code):
        return OUTSIDE_REGION
    return None


@lru_cache(maxsize=4096)
def _zips_named(area: str, state: str) -> frozenset[str]:
    return frozenset(
        place.zip_code for place in gazetteer.places_named(area) if place.state == state
    )
