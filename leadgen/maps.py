"""PNG pictures of regions: the plan's map and a run's yield per region.

Maps are drawn on a plain background from ZIP code centres (no map tiles,
so no network). matplotlib is imported inside the drawing functions, on its
Agg backend: the batch command never draws and should not pay the half
second that importing it costs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from leadgen.errors import StorageError
from leadgen.geography import RegionGround, project
from leadgen.partition import neighbour_graph

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from leadgen.gazetteer import ZipPlace

#: Region colours: strong ones first; neighbouring regions never share one
#: while a region has fewer neighbours than there are colours.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#aec7e8",
    "#98df8a",
)
BACKGROUND_ZIP = "#d9d9d9"

#: A colour as matplotlib takes it: a name or hex string, or RGBA values.
Colour = str | tuple[float, ...]
DPI = 100
MAP_SIZE = (10.0, 8.0)
REPORT_SIZE = (16.0, 8.0)

#: Above this many regions their names would cover the map; they are left out.
MAX_LABELS = 60


def write_region_map(
    grounds: Sequence[RegionGround],
    out: Path,
    title: str,
    context: Iterable[ZipPlace] = (),
) -> Path:
    """Draw each region's ZIP codes in its own colour, labelled, as a PNG.

    Args:
        grounds: The regions, with the ZIP codes they cover.
        out: Where to write the PNG (1000 x 800 pixels); folders are created.
        title: The map's title.
        context: Other ZIP codes to draw in grey where they fall inside the
            map, so a reader sees what the regions leave out.

    Raises:
        StorageError: If the file cannot be written.
    """
    # One map and fixed margins: a layout engine would cost a draw.
    figure = _figure(MAP_SIZE, layout=None)
    axes = figure.add_axes((0.08, 0.07, 0.9, 0.87))
    _draw_context(axes, grounds, context)

    colours = [PALETTE[index] for index in region_colours(grounds)]
    size = _marker_size(grounds)
    for ground, colour in zip(grounds, colours, strict=True):
        _shade(axes, ground, colour)
        _scatter(axes, ground, colour, size)
    details = [f"{len(g.zip_places)} ZIPs" for g in grounds]
    labels = _label(axes, grounds, details, colours)

    _frame(axes, grounds, title, len(grounds))
    _spread(figure, axes, labels)
    return _save(figure, out)


def write_yield_report(
    grounds: Sequence[RegionGround],
    quality: Sequence[Mapping[str, Any]],
    out: Path,
    title: str,
) -> Path:
    """Draw companies per region as bars beside a map coloured by that yield.

    Args:
        grounds: The run's regions with their ZIP codes; empty leaves the map
            out (when the run folder is gone, for example).
        quality: Rows of the ``region_quality`` view, with ``region``,
            ``companies``, ``unique_companies`` and ``shared_companies``.
        out: Where to write the PNG (1600 x 800 pixels); folders are created.
        title: The figure's title.

    Raises:
        StorageError: If the file cannot be written.
    """
    figure = _figure(REPORT_SIZE, layout="constrained")
    figure.suptitle(title)
    if grounds:
        bars, chart = figure.subplots(1, 2, width_ratios=(1, 1.25))
    else:
        bars, chart = figure.add_subplot(), None
    _draw_bars(bars, quality)
    if chart is not None:
        _draw_yield_map(figure, chart, grounds, quality)
    return _save(figure, out)


def region_colours(grounds: Sequence[RegionGround]) -> list[int]:
    """A palette index per region, different from its neighbours' where possible.

    Regions are neighbours when their ZIP codes are linked in the nearest-
    neighbour graph; each region, in order, takes the least used colour that
    no earlier neighbour has, so the result is stable.
    """
    owners = [i for i, ground in enumerate(grounds) for _ in ground.zip_places]
    places = [place for ground in grounds for place in ground.zip_places]
    if not places:
        return [0] * len(grounds)

    lat = sum(place.lat for place in places) / len(places)
    long = sum(place.long for place in places) / len(places)
    graph = neighbour_graph([project(place, lat, long) for place in places])
    touching: list[set[int]] = [set() for _ in grounds]
    for index, links in enumerate(graph):
        for other in links:
            if owners[index] != owners[other]:
                touching[owners[index]].add(owners[other])

    colours: list[int] = []
    for region in range(len(grounds)):
        used = {colours[other] for other in touching[region] if other < region}
        free = [c for c in range(len(PALETTE)) if c not in used] or range(len(PALETTE))
        # The least used free colour, so that while the palette lasts no two
        # regions share a colour at all.
        colours.append(min(free, key=lambda c: (colours.count(c), c)))
    return colours


def _figure(size: tuple[float, float], layout: Literal["constrained"] | None) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=DPI, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def _draw_context(
    axes: Axes, grounds: Sequence[RegionGround], context: Iterable[ZipPlace]
) -> None:
    shown = {code for ground in grounds for code in ground.zip_codes}
    south, north, west, east = _extent(grounds)
    others = [
        place
        for place in context
        if place.zip_code not in shown
        and south <= place.lat <= north
        and west <= place.long <= east
    ]
    if others:
        axes.scatter(
            [place.long for place in others],
            [place.lat for place in others],
            s=8,
            color=BACKGROUND_ZIP,
            label="other ZIP codes",
            zorder=1,
        )


def _scatter(axes: Axes, ground: RegionGround, colour: Colour, size: float) -> None:
    axes.scatter(
        [place.long for place in ground.zip_places],
        [place.lat for place in ground.zip_places],
        s=size,
        color=colour,
        edgecolors="white",
        linewidths=0.4,
        zorder=2,
    )


def _label(
    axes: Axes,
    grounds: Sequence[RegionGround],
    details: Sequence[str],
    colours: Sequence[Colour],
) -> list[tuple[Text, tuple[float, float]]]:
    """Name each region at its centre; returns the labels and their anchors."""
    if len(grounds) > MAX_LABELS:
        return []
    font = 9 if len(grounds) <= 12 else 7 if len(grounds) <= 30 else 6
    labels = []
    for ground, detail, colour in zip(grounds, details, colours, strict=True):
        if not ground.zip_places:
            continue
        lat = sum(p.lat for p in ground.zip_places) / len(ground.zip_places)
        long = sum(p.long for p in ground.zip_places) / len(ground.zip_places)
        text = axes.text(
            long,
            lat,
            f"{_plain(ground.name)}\n{detail}",
            fontsize=font,
            ha="center",
            va="center",
            zorder=4,
            bbox={
                "boxstyle": "round,pad=0.3",
                "fc": (1.0, 1.0, 1.0, 0.8),
                "ec": colour,
            },
        )
        labels.append((text, (long, lat)))
    return labels


def _spread(
    figure: Figure, axes: Axes, labels: Sequence[tuple[Text, tuple[float, float]]]
) -> None:
    """Push overlapping labels apart and tie moved ones to their region's centre.

    Works in pixels once the layout is final: boxes that overlap move apart
    along the direction they overlap least, a little at a time, and stay
    inside the axes.
    """
    if len(labels) < 2:
        return
    if figure.get_layout_engine() is None:
        axes.apply_aspect()  # the final limits, without drawing everything
    else:
        figure.draw_without_rendering()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = axes.get_window_extent(renderer)
    to_pixels = axes.transData.transform
    sizes = [text.get_window_extent(renderer) for text, _ in labels]
    half = [(box.width / 2 + 6, box.height / 2 + 6) for box in sizes]
    spots = [list(map(float, to_pixels(anchor))) for _, anchor in labels]

    for _ in range(200):
        moved = False
        for i, j in itertools.combinations(range(len(spots)), 2):
            dx, dy = spots[j][0] - spots[i][0], spots[j][1] - spots[i][1]
            gap_x = half[i][0] + half[j][0] - abs(dx)
            gap_y = half[i][1] + half[j][1] - abs(dy)
            if gap_x <= 0 or gap_y <= 0:
                continue
            axis, gap, sign = (1, gap_y, dy) if gap_y <= gap_x else (0, gap_x, dx)
            step = (gap / 2 + 0.5) * (1 if sign >= 0 else -1)
            spots[i][axis] -= step
            spots[j][axis] += step
            moved = True
        for spot, (width, height) in zip(spots, half, strict=True):
            spot[0] = min(max(spot[0], frame.x0 + width), frame.x1 - width)
            spot[1] = min(max(spot[1], frame.y0 + height), frame.y1 - height)
        if not moved:
            break

    from_pixels = axes.transData.inverted().transform
    for (text, anchor), spot in zip(labels, spots, strict=True):
        east, north = map(float, from_pixels(spot))
        place = (east, north)
        text.set_position(place)
        if math.dist(spot, to_pixels(anchor)) > 12:
            axes.plot(
                *zip(anchor, place, strict=True), color="#555555", lw=0.7, zorder=3
            )


def _shade(axes: Axes, ground: RegionGround, colour: Colour) -> None:
    """Fill the region's convex hull lightly, so its extent reads at a glance."""
    hull = convex_hull([(place.long, place.lat) for place in ground.zip_places])
    xs, ys = [x for x, _ in hull], [y for _, y in hull]
    if len(hull) >= 3:
        axes.fill(xs, ys, color=colour, alpha=0.13, linewidth=0, zorder=1)
        xs, ys = [*xs, xs[0]], [*ys, ys[0]]
    if len(hull) >= 2:
        axes.plot(xs, ys, color=colour, alpha=0.5, linewidth=0.8, zorder=1)


def convex_hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The corners of the smallest convex polygon around the points, in order."""
    ordered = sorted(set(points))
    if len(ordered) < 3:
        return ordered

    def half(sweep: list[tuple[float, float]]) -> list[tuple[float, float]]:
        chain: list[tuple[float, float]] = []
        for point in sweep:
            while len(chain) >= 2 and _turn(chain[-2], chain[-1], point) <= 0:
                chain.pop()
            chain.append(point)
        return chain[:-1]

    return half(ordered) + half(ordered[::-1])


def _turn(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]
) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _frame(axes: Axes, grounds: Sequence[RegionGround], title: str, count: int) -> None:
    south, north, _, _ = _extent(grounds)
    # The data limits, not the box, give way to the aspect: the map fills
    # the figure and shows more of the surroundings instead of blank paper.
    axes.margins(0.04)
    # Degrees of longitude shrink away from the equator; this keeps shapes true.
    axes.set_aspect(
        1 / math.cos(math.radians((south + north) / 2)), adjustable="datalim"
    )
    axes.set_xlabel("longitude")
    axes.set_ylabel("latitude")
    axes.grid(color="#eeeeee", linewidth=0.6, zorder=0)
    note = "" if count <= MAX_LABELS else " (too many to label)"
    axes.set_title(f"{_plain(title)}{note}")


def _draw_bars(axes: Axes, quality: Sequence[Mapping[str, Any]]) -> None:
    """Three bars per region: all its companies, those only it found, shared."""
    from matplotlib.ticker import MaxNLocator

    names = [_plain(str(row["region"])) for row in quality]
    series = (
        ("companies", "companies", "#1f77b4"),
        ("unique_companies", "only here", "#2ca02c"),
        ("shared_companies", "shared with other regions", "#ff7f0e"),
    )
    height = 0.8 / len(series)
    small = len(names) > 15
    for number, (key, label, colour) in enumerate(series):
        values = [int(row[key] or 0) for row in quality]
        rows = [i + (number - 1) * height for i in range(len(quality))]
        bars = axes.barh(rows, values, height=height, color=colour, label=label)
        if not small:
            axes.bar_label(bars, fontsize=7, padding=2)
    axes.set_yticks(range(len(quality)), names, fontsize=7 if small else 9)
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(x=0.08)
    axes.set_xlabel("companies")
    axes.set_title("Companies per region", pad=24)
    # Above the bars, under the title: inside it would hide the longest bar.
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    axes.grid(axis="x", color="#eeeeee", zorder=0)
    axes.set_axisbelow(True)


def _draw_yield_map(
    figure: Figure,
    axes: Axes,
    grounds: Sequence[RegionGround],
    quality: Sequence[Mapping[str, Any]],
) -> None:
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    found = {str(row["region"]): int(row["companies"] or 0) for row in quality}
    scale = Normalize(vmin=0, vmax=max([1, *found.values()]))
    colours = colormaps["YlOrRd"]
    size = _marker_size(grounds)
    shades = [colours(0.15 + 0.85 * scale(found.get(g.name, 0))) for g in grounds]
    for ground, shade in zip(grounds, shades, strict=True):
        _shade(axes, ground, shade)
        _scatter(axes, ground, shade, size)
    details = [f"{found.get(g.name, 0)} companies" for g in grounds]
    labels = _label(axes, grounds, details, shades)
    _frame(axes, grounds, "Companies found, by region", len(grounds))

    mappable = ScalarMappable(norm=scale, cmap=colours)
    figure.colorbar(mappable, ax=axes, label="companies found", shrink=0.8)
    _spread(figure, axes, labels)


def _extent(grounds: Sequence[RegionGround]) -> tuple[float, float, float, float]:
    """South, north, west and east edges of a square (on the ground) around all
    regions, with a margin: context ZIP codes then fill the map on every side."""
    places = [place for ground in grounds for place in ground.zip_places]
    if not places:
        return (-1.0, 1.0, -1.0, 1.0)
    south, north = min(p.lat for p in places), max(p.lat for p in places)
    west, east = min(p.long for p in places), max(p.long for p in places)
    middle_lat, middle_long = (south + north) / 2, (west + east) / 2
    shrink = math.cos(math.radians(middle_lat))
    half = max(north - south, (east - west) * shrink) / 2 * 1.1 + 0.02
    return (
        middle_lat - half,
        middle_lat + half,
        middle_long - half / shrink,
        middle_long + half / shrink,
    )


def _marker_size(grounds: Sequence[RegionGround]) -> float:
    count = sum(len(ground.zip_places) for ground in grounds)
    return 40.0 if count <= 200 else 22.0 if count <= 800 else 10.0


def _plain(text: str) -> str:
    # matplotlib reads text between two dollar signs as mathematics.
    return text.replace("$", r"\$")


def _save(figure: Figure, out: Path) -> Path:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # Light compression: a third of the time for a slightly larger file.
        figure.savefig(out, dpi=DPI, format="png", pil_kwargs={"compress_level": 1})
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StorageError(f"{out}: cannot write the picture: {reason}") from None
    return out
