"""The PNG pictures: the regions map and a merged run's yield report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from matplotlib import colormaps
from matplotlib.colors import to_hex, to_rgb
from matplotlib.image import imread

from leadgen.cli import main
from leadgen.config import load_config
from leadgen.geography import RegionGround, project, region_grounds
from leadgen.maps import (
    PALETTE,
    region_colours,
    write_region_map,
    write_yield_report,
)
from leadgen.partition import neighbour_graph
from leadgen.runner import RunOptions, run_batch
from leadgen.warehouse import merge_run

from .conftest import small_config

BAR_COLOURS = ("#1f77b4", "#2ca02c", "#ff7f0e")
YIELD_SHADES = colormaps["YlOrRd"]


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database of a finished three-region automatic run near Denver."""
    folder = tmp_path_factory.mktemp("merged")
    config = small_config(
        name="auto-small",
        geography={
            "metro": "Denver",
            "state": "CO",
            "auto": {"center": "80202", "radius_miles": 6, "regions": 3},
        },
    )
    path = folder / "auto-small.yaml"
    path.write_text(yaml.safe_dump(config))
    summary = run_batch(load_config(path), RunOptions(run_dir=folder / "run"))
    assert summary.exit_code == 0
    db = folder / "data" / "leadgen.duckdb"
    merge_run(folder / "run", db)
    return db


@pytest.fixture
def grounds(write_config: Callable[..., Path]) -> list[RegionGround]:
    return region_grounds(load_config(write_config(small_config())).batch)


def test_region_map_is_a_png_of_the_promised_size_and_colours(
    tmp_path: Path, grounds: list[RegionGround]
) -> None:
    out = tmp_path / "maps" / "small.png"

    written = write_region_map(grounds, out, "small: 3 regions")

    pixels = imread(written)
    assert pixels.shape[:2] == (800, 1000)
    used = [PALETTE[index] for index in region_colours(grounds)]
    assert len(set(used)) == len(grounds)
    for colour in used:
        assert _pixels_of(pixels, colour) > 30, colour


def test_neighbouring_regions_get_different_colours(
    write_config: Callable[..., Path],
) -> None:
    # More regions than colours: some colours repeat, never across a border.
    config = small_config(
        geography={
            "metro": "Atlanta",
            "state": "GA",
            "auto": {"center": "Atlanta, GA", "radius_miles": 40, "regions": 20},
        }
    )
    grounds = region_grounds(load_config(write_config(config)).batch)

    colours = region_colours(grounds)

    owners = [i for i, ground in enumerate(grounds) for _ in ground.zip_places]
    places = [place for ground in grounds for place in ground.zip_places]
    graph = neighbour_graph([project(p, 33.75, -84.39) for p in places])
    borders = {
        (owners[a], owners[b])
        for a, links in enumerate(graph)
        for b in links
        if owners[a] != owners[b]
    }
    assert borders
    assert all(colours[a] != colours[b] for a, b in borders)
    assert len(set(colours)) > 4


def test_yield_report_draws_bars_and_map(
    tmp_path: Path, grounds: list[RegionGround]
) -> None:
    quality = _quality(grounds, [12, 3, 7])

    written = write_yield_report(grounds, quality, tmp_path / "r.png", "Run small")

    pixels = imread(written)
    assert pixels.shape[:2] == (800, 1600)
    for colour in BAR_COLOURS:
        assert _pixels_of(pixels, colour) > 200, colour
    # Each region is drawn in the shade of its yield: most companies darkest.
    for count in (12, 3):
        assert _pixels_of(pixels, to_hex(YIELD_SHADES(0.15 + 0.85 * count / 12))) > 30


def test_yield_report_without_regions_keeps_the_chart(
    tmp_path: Path, grounds: list[RegionGround]
) -> None:
    quality = _quality(grounds, [5, 0, 2])

    written = write_yield_report([], quality, tmp_path / "r.png", "Run small")

    pixels = imread(written)
    assert pixels.shape[:2] == (800, 1600)
    assert _pixels_of(pixels, BAR_COLOURS[0]) > 200


def test_regions_command_prints_the_plan_and_writes_the_map(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_config(small_config())

    result = CliRunner().invoke(
        main, ["regions", str(path), "--data-dir", str(tmp_path / "data")]
    )

    assert result.exit_code == 0, result.output
    out = tmp_path / "data" / "maps" / "small-regions.png"
    assert result.stderr.strip() == f"Map: {out}"
    assert result.stdout.startswith("Denver, CO: 3 region(s), ")
    for name in ("Downtown", "North Side", "South Side"):
        assert f"\n{name}: " in result.stdout
    assert "80202" in result.stdout
    assert imread(out).shape[:2] == (800, 1000)


def test_regions_command_reports_an_unwritable_map(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    path = write_config(small_config())

    result = CliRunner().invoke(
        main, ["regions", str(path), "--out", str(blocker / "map.png")]
    )

    assert result.exit_code == 5, result.output
    assert result.stderr.startswith(f"Error: {blocker / 'map.png'}: cannot write")


def test_report_command_prints_quality_and_writes_the_picture(merged: Path) -> None:
    result = CliRunner().invoke(main, ["report", "auto-small", "--db", str(merged)])

    assert result.exit_code == 0, result.output
    out = merged.parent / "maps" / "auto-small-report.png"
    assert result.stderr.strip() == f"Report: {out}"
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["Region", "Status"]
    assert len(lines) == 2 + 3 + 1  # header, rule, three regions, total
    assert all(" done " in line for line in lines[2:5])
    pixels = imread(out)
    assert pixels.shape[:2] == (800, 1600)
    assert _pixels_of(pixels, BAR_COLOURS[0]) > 200


def test_report_of_an_unknown_run_names_the_known_ones(merged: Path) -> None:
    result = CliRunner().invoke(main, ["report", "nope", "--db", str(merged)])

    assert result.exit_code == 2
    assert "no run named 'nope'" in result.stderr
    assert "(runs: auto-small)" in result.stderr


def _quality(grounds: Sequence[RegionGround], found: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "region": ground.name,
            "companies": count,
            "unique_companies": count // 2,
            "shared_companies": count - count // 2,
        }
        for ground, count in zip(grounds, found, strict=True)
    ]


def _pixels_of(pixels: Any, colour: str) -> int:
    """How many pixels have this colour (to within rounding)."""
    red, green, blue = to_rgb(colour)
    rgb = pixels[..., :3]
    close = (
        (abs(rgb[..., 0] - red) < 0.01)
        & (abs(rgb[..., 1] - green) < 0.01)
        & (abs(rgb[..., 2] - blue) < 0.01)
    )
    return int(close.sum())
