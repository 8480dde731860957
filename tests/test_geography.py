"""Automatic regions, places by name, and the errors a geography can raise."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from leadgen.cli import regions_command
from leadgen.config import BatchConfig, load_config, region_slug
from leadgen.gazetteer import lookup
from leadgen.geography import miles_between, project, resolve_center, state_places
from leadgen.partition import components, neighbour_graph, partition
from leadgen.spec import cache_key, region_specs
from leadgen.validate import RegionBounds

from .conftest import REPO, small_config


def auto_config(
    center: str = "Phoenix, AZ",
    state: str = "AZ",
    radius: float = 30,
    regions: int = 6,
    **auto: Any,
) -> dict[str, Any]:
    """A small offline config whose regions leadgen draws itself."""
    geography = {
        "metro": center.split(",")[0],
        "state": state,
        "auto": {"center": center, "radius_miles": radius, "regions": regions, **auto},
    }
    return small_config(geography=geography)


def places_config(*regions: dict[str, Any]) -> dict[str, Any]:
    geography = {"metro": "Denver", "state": "CO", "regions": list(regions)}
    return small_config(geography=geography)


METROS = [
    pytest.param("Phoenix, AZ", "AZ", 35, 8, id="phoenix-city-and-state-8"),
    pytest.param("80202", "CO", 25, 6, id="denver-zip-centre-6"),
    pytest.param("Seattle", "WA", 30, 7, id="seattle-bare-name-7"),
    pytest.param("Atlanta, GA", "GA", 40, 12, id="atlanta-12"),
]


@pytest.mark.parametrize(("center", "state", "radius", "count"), METROS)
def test_auto_regions_are_balanced_compact_and_cover_the_circle(
    write_config: Callable[..., Path], center: str, state: str, radius: int, count: int
) -> None:
    loaded = load_config(write_config(auto_config(center, state, radius, count)))
    regions = loaded.batch.regions
    lat, long = resolve_center(center, state)

    sizes = [len(region.zip_codes) for region in regions]
    assert len(regions) == count
    assert min(sizes) >= 1
    assert max(sizes) <= 1.3 * min(sizes), sizes

    drawn = [code for region in regions for code in region.zip_codes]
    inside = {
        place.zip_code
        for place in state_places(state)
        if miles_between(lat, long, place.lat, place.long) <= radius
    }
    assert len(drawn) == len(set(drawn)), "a ZIP code is in two regions"
    assert set(drawn) == inside

    for region in regions:
        points = [_point(code, lat, long) for code in region.zip_codes]
        middle = (_mean(x for x, _ in points), _mean(y for _, y in points))
        assert max(math.dist(p, middle) for p in points) <= 0.75 * radius, region.name


@pytest.mark.parametrize(("center", "state", "radius", "count"), METROS)
def test_auto_regions_are_connected(
    write_config: Callable[..., Path], center: str, state: str, radius: int, count: int
) -> None:
    loaded = load_config(write_config(auto_config(center, state, radius, count)))
    lat, long = resolve_center(center, state)
    codes = [code for region in loaded.batch.regions for code in region.zip_codes]
    graph = neighbour_graph([_point(code, lat, long) for code in codes])

    start = 0
    for region in loaded.batch.regions:
        members = range(start, start + len(region.zip_codes))
        assert len(components(members, graph)) == 1, region.name
        start += len(region.zip_codes)


def test_auto_regions_are_named_after_their_places(
    write_config: Callable[..., Path],
) -> None:
    loaded = load_config(write_config(auto_config("Colorado Springs, CO", "CO", 40, 5)))
    regions = loaded.batch.regions

    assert len({region_slug(region.name) for region in regions}) == len(regions)
    for region in regions:
        places = {name for code in region.zip_codes for name in _names(code)}
        base = region.name
        for word in ("North ", "South ", "East ", "West ", "Central "):
            base = base.removeprefix(word)
        for part in base.split(" & "):
            assert part in places, (region.name, sorted(places))
        assert "Spgs" not in region.name, "postal shorthand named a region"


def test_auto_region_areas_never_widen_the_region(
    write_config: Callable[..., Path],
) -> None:
    # The directory search and the bounds check add every ZIP of an area; an
    # area split between regions would make them overlap.
    loaded = load_config(write_config(auto_config("Phoenix, AZ", "AZ", 35, 8)))

    for region in loaded.batch.regions:
        bounds = RegionBounds("AZ", region.zip_codes, region.areas)
        assert bounds.zip_codes == frozenset(region.zip_codes), region.name
    assert any(region.areas for region in loaded.batch.regions)


def test_same_config_gives_same_regions_in_a_fresh_process(
    write_config: Callable[..., Path],
) -> None:
    path = write_config(auto_config("Phoenix, AZ", "AZ", 35, 8))
    here = [region.model_dump() for region in load_config(path).batch.regions]
    script = (
        "import json, sys; from leadgen.config import load_config; "
        "print(json.dumps([r.model_dump() for r in "
        "load_config(sys.argv[1]).batch.regions]))"
    )

    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )

    assert json.loads(result.stdout) == here


def test_drawing_regions_needs_neither_numpy_nor_matplotlib() -> None:
    # The batch command draws regions at start-up; the plotting stack would
    # add half a second to every run.
    script = (
        "import sys; import leadgen.cli, leadgen.runner; "
        "from leadgen.config import load_config; load_config(sys.argv[1]); "
        "print(sorted(m for m in ('numpy', 'matplotlib') if m in sys.modules))"
    )

    result = subprocess.run(
        [sys.executable, "-c", script, str(REPO / "configs" / "phoenix.yaml")],
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "[]"


def test_places_resolve_to_zip_codes_including_acceptable_names(
    write_config: Callable[..., Path],
) -> None:
    config = places_config(
        {"name": "West", "places": ["lakewood", "Wheat Ridge"]},
        {"name": "Boulder", "places": ["Boulder, CO"], "areas": ["Pearl Street"]},
    )

    west, boulder = load_config(write_config(config)).batch.regions

    # 80226 is filed under Denver; USPS accepts Lakewood for it.
    assert {"80226", "80227", "80033"} <= set(west.zip_codes)
    assert west.areas == ["Lakewood", "Wheat Ridge"]
    assert west.places == []
    assert boulder.areas == ["Boulder", "Pearl Street"]
    assert all(lookup(code).state == "CO" for code in boulder.zip_codes)  # type: ignore[union-attr]
    assert "80302" in boulder.zip_codes


def test_run_manifest_snapshot_revalidates_to_the_same_specs(
    write_config: Callable[..., Path],
) -> None:
    batch = load_config(write_config(auto_config(regions=4))).batch
    snapshot = json.loads(json.dumps(batch.model_dump(mode="json")))

    again = BatchConfig.model_validate(snapshot)

    assert snapshot["geography"]["auto"] is None
    before = region_specs(batch, "offline")
    after = region_specs(again, "offline")
    assert after == before
    assert [cache_key(s) for s in after] == [cache_key(s) for s in before]
    assert [s.zip_codes for s in after] == [tuple(r.zip_codes) for r in batch.regions]


def test_cache_keys_follow_the_drawn_zip_codes(
    write_config: Callable[..., Path],
) -> None:
    near = load_config(write_config(auto_config(radius=20, regions=1), "near.yaml"))
    far = load_config(write_config(auto_config(radius=25, regions=1), "far.yaml"))

    (near_spec,) = region_specs(near.batch, "offline")
    (far_spec,) = region_specs(far.batch, "offline")

    assert set(near_spec.zip_codes) < set(far_spec.zip_codes)
    assert cache_key(near_spec) != cache_key(far_spec)


def test_an_unloaded_auto_config_has_no_regions_to_give() -> None:
    batch = BatchConfig.model_validate(auto_config())

    with pytest.raises(ValueError, match="load_config draws automatic regions"):
        batch.regions  # noqa: B018


def test_shipped_configs_resolve() -> None:
    phoenix_path = REPO / "configs" / "phoenix.yaml"
    asked = yaml.safe_load(phoenix_path.read_text())["geography"]["auto"]["regions"]
    phoenix = load_config(phoenix_path).batch
    front_range = load_config(REPO / "configs" / "front_range.yaml").batch

    assert len(phoenix.regions) == asked
    codes = {code for region in front_range.regions for code in region.zip_codes}
    for city in ("Denver", "Boulder", "Colorado Springs"):
        assert any(_names(code) & {city} for code in codes), city


def _geography(**fields: Any) -> dict[str, Any]:
    return small_config(geography={"metro": "Phoenix", "state": "AZ", **fields})


AUTO = {"center": "Phoenix, AZ", "radius_miles": 30, "regions": 4}
SMALL_REGION = [{"name": "Downtown", "zip_codes": ["85004"]}]

BAD_GEOGRAPHIES = [
    pytest.param(
        places_config({"name": "West", "places": ["Lakewood", "Wheat Rdge"]}),
        "geography.regions[0].places[1]: no place called 'Wheat Rdge' in CO; "
        "did you mean 'Wheat Ridge'",
        id="unknown-place-suggests",
    ),
    pytest.param(
        places_config({"name": "West", "places": ["Boulder, UT"]}),
        "geography.regions[0].places[0]: 'Boulder, UT' is not in CO",
        id="place-in-another-state",
    ),
    pytest.param(
        auto_config("Phonix, AZ"),
        "geography.auto.center: no place called 'Phonix' in AZ; did you mean 'Phoenix'",
        id="unknown-centre-suggests",
    ),
    pytest.param(
        auto_config("Qqxzv"),
        "geography.auto.center: no place called 'Qqxzv' in AZ; check the spelling",
        id="unknown-centre-no-suggestion",
    ),
    pytest.param(
        auto_config("00000"),
        "geography.auto.center: 00000 is not an active ZIP code",
        id="unknown-centre-zip",
    ),
    pytest.param(
        auto_config(radius=2, regions=400),
        "geography.auto.regions: only",
        id="more-regions-than-zip-codes",
    ),
    pytest.param(
        _geography(auto=AUTO, regions=SMALL_REGION),
        "geography: give either 'regions' or 'auto', not both",
        id="both-regions-and-auto",
    ),
    pytest.param(
        _geography(), "geography: give 'regions' (a list) or 'auto'", id="neither"
    ),
    pytest.param(
        auto_config(radius=0), "geography.auto.radius_miles", id="radius-zero"
    ),
    pytest.param(
        auto_config(radius=301), "geography.auto.radius_miles", id="radius-too-big"
    ),
    pytest.param(auto_config(regions=0), "geography.auto.regions", id="regions-zero"),
    pytest.param(
        auto_config(regions=501), "geography.auto.regions", id="regions-too-many"
    ),
    pytest.param(
        _geography(auto={**AUTO, "centre": "Mesa"}),
        "geography.auto.centre: unknown key",
        id="auto-unknown-key",
    ),
]


@pytest.mark.parametrize(("config", "expected"), BAD_GEOGRAPHIES)
def test_bad_geography_is_one_line_exit_2(
    write_config: Callable[..., Path], config: dict[str, Any], expected: str
) -> None:
    path = write_config(config)

    result = CliRunner().invoke(regions_command, [str(path), "--no-map"])

    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {path}: ")
    assert expected in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("count", [1, 7, 100], ids=["one", "seven", "one-per-point"])
def test_partition_of_a_grid_is_balanced_within_one(count: int) -> None:
    points = [(float(x), float(y)) for x in range(10) for y in range(10)]

    labels = partition(points, count)

    sizes = [labels.count(group) for group in range(count)]
    assert max(sizes) - min(sizes) <= 1


def test_partition_keeps_far_clusters_apart() -> None:
    west = [(float(i % 4), float(i // 4)) for i in range(12)]
    east = [(100.0 + x, y) for x, y in west]

    labels = partition(west + east, 2)

    assert len(set(labels[:12])) == 1
    assert len(set(labels[12:])) == 1
    assert labels[0] != labels[12]


@pytest.mark.parametrize("count", [2, 3, 4, 5], ids=lambda n: f"{n}-groups")
def test_partition_of_a_horseshoe_gives_connected_groups(count: int) -> None:
    # Straight cuts across a U leave pieces of both arms on one side.
    arm = [(0.0, float(y)) for y in range(20)]
    points = arm + [(float(x), 0.0) for x in range(1, 8)] + [(8.0, y) for _, y in arm]

    labels = partition(points, count)

    graph = neighbour_graph(points)
    for group in range(count):
        members = [i for i, label in enumerate(labels) if label == group]
        assert len(components(members, graph)) == 1
    sizes = [labels.count(group) for group in range(count)]
    assert max(sizes) <= 1.3 * min(sizes), sizes


@pytest.mark.parametrize("count", [0, 4], ids=["zero", "more-than-points"])
def test_partition_refuses_impossible_counts(count: int) -> None:
    with pytest.raises(ValueError, match="cannot split 3 point"):
        partition([(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)], count)


def _point(code: str, lat: float, long: float) -> tuple[float, float]:
    place = lookup(code)
    assert place is not None
    return project(place, lat, long)


def _names(code: str) -> set[str]:
    place = lookup(code)
    assert place is not None
    return {place.city, *place.acceptable_cities}


def _mean(values: Any) -> float:
    items = list(values)
    return sum(items) / len(items)
