"""Split points on a plane into balanced, compact, connected groups.

Automatic regions are groups of ZIP code centres. Three steps make them:
recursive bisection along each part's longest spread gives compact groups of
equal size; a repair step gives every group one connected piece in a
nearest-neighbour graph, so no region is two islands; and a balancing step
moves boundary points from large groups to smaller neighbours without ever
breaking a group in two. Everything is pure standard library and ordered by
point index on ties, so the same points always give the same groups.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence

#: A point in miles east and north of some origin.
Point = tuple[float, float]

#: Each point is linked to this many nearest others (and they to it). Six is
#: about what a point has as neighbours in a planar tiling.
NEIGHBOURS = 6

#: Limits on the compactness passes: how many passes, and how many of the
#: best-placed border points of each group a swap considers.
MAX_TIGHTEN_PASSES = 30
SWAP_CANDIDATES = 4


def partition(points: Sequence[Point], count: int) -> list[int]:
    """Return a group number in ``range(count)`` for each point.

    Groups are as equal in size as connectedness allows (usually within
    one point), each group is connected in ``neighbour_graph(points)``, and
    group numbers follow the bisection, so neighbours often have close numbers.

    Raises:
        ValueError: If ``count`` is below one or above the number of points.
    """
    if not 1 <= count <= len(points):
        raise ValueError(f"cannot split {len(points)} point(s) into {count} groups")

    labels = [0] * len(points)
    members = list(range(len(points)))
    for number, group in enumerate(_bisect(points, members, count)):
        for index in group:
            labels[index] = number

    graph = neighbour_graph(points)
    _repair(labels, graph, count)
    _balance(labels, graph, points, count)
    _tighten(labels, graph, points, count)
    return labels


def neighbour_graph(points: Sequence[Point]) -> list[set[int]]:
    """Link each point to its nearest ones, symmetrically, into one component.

    Points far from the rest (a town across a mountain range) are joined to
    their nearest outside point, so any two points are connected by a path.
    """
    graph: list[set[int]] = [set() for _ in points]
    for index, near in enumerate(_nearest_all(points, NEIGHBOURS)):
        for other in near:
            graph[index].add(other)
            graph[other].add(index)

    _join_components(points, graph)
    return graph


def components(members: Iterable[int], graph: Sequence[set[int]]) -> list[list[int]]:
    """Connected pieces of ``members`` in ``graph``, largest first.

    Ties go to the piece holding the lowest index; each piece is sorted.
    """
    inside = set(members)
    seen: set[int] = set()
    pieces = []
    for start in sorted(inside):
        if start in seen:
            continue
        seen.add(start)
        piece, frontier = [start], [start]
        while frontier:
            for other in graph[frontier.pop()]:
                if other in inside and other not in seen:
                    seen.add(other)
                    piece.append(other)
                    frontier.append(other)
        pieces.append(sorted(piece))
    return sorted(pieces, key=lambda piece: (-len(piece), piece[0]))


def _bisect(points: Sequence[Point], members: list[int], count: int) -> list[list[int]]:
    """Cut across the longest spread into parts sized in proportion to count."""
    if count == 1:
        return [members]

    low = count // 2
    cut = math.floor(len(members) * low / count + 0.5)
    # Each side needs at least one point per group it will hold.
    cut = min(max(cut, low), len(members) - (count - low))

    east, north = _principal_axis(points, members)
    ordered = sorted(
        members, key=lambda i: (points[i][0] * east + points[i][1] * north, i)
    )
    return _bisect(points, ordered[:cut], low) + _bisect(
        points, ordered[cut:], count - low
    )


def _principal_axis(points: Sequence[Point], members: list[int]) -> Point:
    """The unit direction along which the members spread most."""
    n = len(members)
    mean_x = sum(points[i][0] for i in members) / n
    mean_y = sum(points[i][1] for i in members) / n
    sxx = sum((points[i][0] - mean_x) ** 2 for i in members)
    syy = sum((points[i][1] - mean_y) ** 2 for i in members)
    sxy = sum((points[i][0] - mean_x) * (points[i][1] - mean_y) for i in members)
    angle = 0.5 * math.atan2(2 * sxy, sxx - syy)
    return (math.cos(angle), math.sin(angle))


def _nearest_all(points: Sequence[Point], count: int) -> list[list[int]]:
    """The ``count`` nearest other points of every point.

    A sweep over points sorted by x: each point looks left and right and stops
    in a direction once the x gap alone exceeds its current worst neighbour.
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], i))
    result: list[list[int]] = [[] for _ in points]
    for position, index in enumerate(order):
        x, y = points[index]
        best: list[tuple[float, int]] = []  # max-heap by negated distance
        for step in (-1, 1):
            scan = position + step
            while 0 <= scan < len(order):
                other = order[scan]
                gap = points[other][0] - x
                if len(best) == count and gap * gap > -best[0][0]:
                    break
                dist = gap * gap + (points[other][1] - y) ** 2
                item = (-dist, -other)
                if len(best) < count:
                    heapq.heappush(best, item)
                elif item > best[0]:
                    heapq.heapreplace(best, item)
                scan += step
        result[index] = sorted(-other for _, other in best)
    return result


def _join_components(points: Sequence[Point], graph: list[set[int]]) -> None:
    """Link the smallest piece to its nearest outside point until one remains."""
    pieces = components(range(len(points)), graph)
    while len(pieces) > 1:
        piece = pieces[-1]
        inside = set(piece)
        _, near, far = min(
            (_squared(points[a], points[b]), a, b)
            for a in piece
            for b in range(len(points))
            if b not in inside
        )
        graph[near].add(far)
        graph[far].add(near)
        pieces = components(range(len(points)), graph)


def _repair(labels: list[int], graph: Sequence[set[int]], count: int) -> None:
    """Give each stray piece of a group to the neighbour it touches most.

    A group keeps its largest piece. A stray piece joins the group whose main
    piece it shares most links with; one touching only other stray pieces
    waits for the next pass, when those have moved.
    """
    for _ in range(len(labels)):
        main: dict[int, set[int]] = {}
        strays: list[tuple[int, list[int]]] = []
        for group, members in enumerate(_members(labels, count)):
            pieces = components(members, graph)
            main[group] = set(pieces[0])
            strays.extend((group, piece) for piece in pieces[1:])
        if not strays:
            return

        moved = False
        for group, piece in strays:
            votes = Counter(
                labels[other]
                for index in piece
                for other in graph[index]
                if labels[other] != group and other in main[labels[other]]
            )
            if votes:
                target = min(votes, key=lambda g: (-votes[g], g))
                for index in piece:
                    labels[index] = target
                moved = True
        if not moved:
            return


def _balance(
    labels: list[int],
    graph: Sequence[set[int]],
    points: Sequence[Point],
    count: int,
) -> None:
    """Pass surplus points from large groups towards small ones.

    A large group gives a boundary point to a neighbour, which gives one of
    its own onward, along the shortest chain of neighbouring groups to one
    at least two points smaller; so a surplus reaches a deficit that is not
    next to it. A point moves only if its group stays connected without it.
    A link that cannot pass a point is skipped until some chain succeeds;
    the number of chains is capped, so the loop always ends.
    """
    blocked: set[tuple[int, int]] = set()
    for _ in range(4 * len(labels)):
        chain = _chain_to_deficit(labels, graph, count, blocked)
        if chain is None:
            return
        for donor, receiver in itertools.pairwise(chain):
            index = _movable_point(labels, graph, points, donor, receiver)
            if index is None:
                blocked.add((donor, receiver))
                break
            labels[index] = receiver
        else:
            blocked.clear()


def _chain_to_deficit(
    labels: Sequence[int],
    graph: Sequence[set[int]],
    count: int,
    blocked: set[tuple[int, int]],
) -> list[int] | None:
    """The shortest chain of neighbouring groups from a large to a small one.

    Groups on the way are smaller than the first, so passing a point along
    never makes a group larger than the first was.
    """
    sizes = Counter(labels)
    if max(sizes.values()) - min(sizes[group] for group in range(count)) <= 1:
        return None
    touching: list[set[int]] = [set() for _ in range(count)]
    for index, links in enumerate(graph):
        touching[labels[index]].update(labels[other] for other in links)

    for donor in sorted(range(count), key=lambda group: (-sizes[group], group)):
        parents = {donor: donor}
        queue = [donor]
        for group in queue:
            for other in sorted(touching[group] - parents.keys()):
                if (group, other) in blocked or sizes[other] >= sizes[donor]:
                    continue
                parents[other] = group
                if sizes[other] <= sizes[donor] - 2:
                    chain = [other]
                    while chain[-1] != donor:
                        chain.append(parents[chain[-1]])
                    return chain[::-1]
                queue.append(other)
    return None


def _movable_point(
    labels: Sequence[int],
    graph: Sequence[set[int]],
    points: Sequence[Point],
    donor: int,
    receiver: int,
) -> int | None:
    """The donor's point nearest the receiver that can leave without a split."""
    members = [i for i, group in enumerate(labels) if group == donor]
    taken = [i for i, group in enumerate(labels) if group == receiver]
    if len(members) < 2:
        return None
    centre = (
        sum(points[i][0] for i in taken) / len(taken),
        sum(points[i][1] for i in taken) / len(taken),
    )
    border = [i for i in members if any(labels[o] == receiver for o in graph[i])]
    for index in sorted(border, key=lambda i: (_squared(points[i], centre), i)):
        if len(components([i for i in members if i != index], graph)) == 1:
            return index
    return None


def _tighten(
    labels: list[int],
    graph: Sequence[set[int]],
    points: Sequence[Point],
    count: int,
) -> None:
    """Swap border points between neighbouring groups while that makes both
    more compact.

    Cuts along straight lines can leave long wedges. A swap of one point each
    way keeps both sizes; it is made only if the two points sit closer to
    the other group's centre than to their own (in sum, by squared distance),
    and both groups stay connected. The total squared distance of points to
    their group's centre then falls with every swap, so the passes end; they
    are also capped.
    """
    members = [set(group) for group in _members(labels, count)]
    centres = [_centre(group, points) for group in members]
    for _ in range(MAX_TIGHTEN_PASSES):
        swapped = False
        for one, other in _touching_pairs(labels, graph):
            pair = _swap_pair(labels, graph, points, centres, members, one, other)
            if pair is None:
                continue
            leaving, arriving = pair
            members[one].symmetric_difference_update((leaving, arriving))
            members[other].symmetric_difference_update((leaving, arriving))
            centres[one] = _centre(members[one], points)
            centres[other] = _centre(members[other], points)
            swapped = True
        if not swapped:
            return


def _swap_pair(
    labels: list[int],
    graph: Sequence[set[int]],
    points: Sequence[Point],
    centres: Sequence[Point],
    members: Sequence[set[int]],
    one: int,
    other: int,
) -> tuple[int, int] | None:
    """Swap the best pair of border points of two groups, if it helps both.

    Returns the point that left ``one`` and the one that arrived, or None.
    """
    outgoing = _leaning(labels, graph, points, centres, members[one], other)
    incoming = _leaning(labels, graph, points, centres, members[other], one)
    for gain_out, leaving in outgoing[:SWAP_CANDIDATES]:
        for gain_in, arriving in incoming[:SWAP_CANDIDATES]:
            if gain_out + gain_in <= 0:
                break
            after_one = (members[one] - {leaving}) | {arriving}
            after_other = (members[other] - {arriving}) | {leaving}
            if (
                len(components(after_one, graph)) == 1
                and len(components(after_other, graph)) == 1
            ):
                labels[leaving], labels[arriving] = other, one
                return leaving, arriving
    return None


def _leaning(
    labels: Sequence[int],
    graph: Sequence[set[int]],
    points: Sequence[Point],
    centres: Sequence[Point],
    group: set[int],
    towards: int,
) -> list[tuple[float, int]]:
    """Border points of ``group`` next to group ``towards``, nearest it first.

    The gain is how much nearer a point lies to the other centre than to its
    own, in squared distance; points with no gain are left out.
    """
    own = centres[labels[next(iter(group))]]
    found = []
    for index in group:
        if not any(labels[other] == towards for other in graph[index]):
            continue
        gain = _squared(points[index], own) - _squared(points[index], centres[towards])
        if gain > 0:
            found.append((gain, index))
    return sorted(found, key=lambda item: (-item[0], item[1]))


def _touching_pairs(
    labels: Sequence[int], graph: Sequence[set[int]]
) -> list[tuple[int, int]]:
    pairs = {
        (min(labels[a], labels[b]), max(labels[a], labels[b]))
        for a, links in enumerate(graph)
        for b in links
        if labels[a] != labels[b]
    }
    return sorted(pairs)


def _centre(group: set[int], points: Sequence[Point]) -> Point:
    return (
        sum(points[i][0] for i in group) / len(group),
        sum(points[i][1] for i in group) / len(group),
    )


def _members(labels: Sequence[int], count: int) -> list[list[int]]:
    groups: list[list[int]] = [[] for _ in range(count)]
    for index, group in enumerate(labels):
        groups[group].append(index)
    return groups


def _squared(one: Point, other: Point) -> float:
    return (one[0] - other[0]) ** 2 + (one[1] - other[1]) ** 2
