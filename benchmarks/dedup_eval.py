"""Measure deduplication quality on the labelled evaluation set.

Runs :func:`leadgen.dedup.cluster` over ``benchmarks/data/dedup_eval.csv`` (fictional
listings with an ``entity_id`` truth label) and scores it pairwise: a pair of rows
is predicted to match when the engine puts both in one company, and truly matches
when both carry one ``entity_id``. Prints precision, recall and F1, every false
merge (with the links that made it) and every missed merge, then one JSON line.

Usage, from the repository root::

    python benchmarks/dedup_eval.py [path/to/labelled.csv]
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from leadgen.dedup import Cluster, Record, cluster

DATA = Path(__file__).resolve().parent / "data" / "dedup_eval.csv"
TARGET_PRECISION = 0.98
TARGET_F1 = 0.97


def load(path: Path) -> tuple[list[Record], dict[str, str], dict[str, dict[str, str]]]:
    """Read the labelled CSV into records, their labels and their raw rows."""
    records: list[Record] = []
    labels: dict[str, str] = {}
    raw: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            key = f"line {number}"
            records.append(
                Record(
                    key=key,
                    name=row["name"] or None,
                    website=row["website"] or None,
                    phone=row["phone"] or None,
                    street_address=row["address"] or None,
                    city=row["city"] or None,
                    state=row["state"] or None,
                    postal_code=row["zip"] or None,
                )
            )
            labels[key] = row["entity_id"]
            raw[key] = row
    return records, labels, raw


def pairs(groups: Iterable[Iterable[str]]) -> int:
    """Count the pairs of members within each group."""
    return sum(n * (n - 1) // 2 for n in (len(list(group)) for group in groups))


def describe(row: dict[str, str]) -> str:
    """One short line for a row: its label and its non-empty fields."""
    fields = ("name", "website", "phone", "address", "city", "state", "zip")
    return f"[{row['entity_id']}] " + " | ".join(row[f] for f in fields if row[f])


def main(path: Path) -> int:
    records, labels, raw = load(path)
    started = time.perf_counter()
    clusters = cluster(records)
    seconds = time.perf_counter() - started

    by_entity: dict[str, list[str]] = defaultdict(list)
    for key, entity in labels.items():
        by_entity[entity].append(key)
    overlap = Counter(
        (found.company_id, labels[key]) for found in clusters for key in found.keys
    )
    true_positive = sum(n * (n - 1) // 2 for n in overlap.values())
    predicted = pairs(found.keys for found in clusters)
    actual = pairs(by_entity.values())
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    print(f"{path.name}: {len(records)} rows, {len(by_entity)} labelled entities")
    print(
        f"  {len(clusters)} companies found in {seconds:.3f} s "
        "(with the one-time load of suffix list, phone metadata and gazetteer)"
    )
    print(f"  pairs: predicted {predicted}, labelled {actual}, correct {true_positive}")
    print(f"  precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}")

    false_merges = [
        found for found in clusters if len({labels[k] for k in found.keys}) > 1
    ]
    print(f"\nfalse merges ({len(false_merges)} companies mixing entities):")
    for found in false_merges:
        report_false_merge(found, labels, raw)

    company_of = {key: found.company_id for found in clusters for key in found.keys}
    missed = {
        entity: keys
        for entity, keys in sorted(by_entity.items())
        if len({company_of[key] for key in keys}) > 1
    }
    print(f"\nmissed merges ({len(missed)} entities split over several companies):")
    for entity, keys in missed.items():
        parts: dict[str, list[str]] = defaultdict(list)
        for key in keys:
            parts[company_of[key]].append(key)
        print(f"  {entity}: {len(parts)} companies")
        for part in parts.values():
            print(
                f"    - {describe(raw[part[0]])}"
                + (f" (+{len(part) - 1})" if len(part) > 1 else "")
            )

    met = precision >= TARGET_PRECISION and f1 >= TARGET_F1
    print(
        f"\ntargets: precision >= {TARGET_PRECISION}, F1 >= {TARGET_F1}: "
        + ("met" if met else "NOT met")
    )
    summary = {
        "benchmark": "dedup_eval",
        "rows": len(records),
        "entities": len(by_entity),
        "companies": len(clusters),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "false_merge_companies": len(false_merges),
        "missed_entities": len(missed),
        "seconds": round(seconds, 3),
    }
    print(json.dumps(summary))
    return 0 if met else 1


def report_false_merge(
    found: Cluster, labels: dict[str, str], raw: dict[str, dict[str, str]]
) -> None:
    print(f"  {found.company_id}: {sorted({labels[k] for k in found.keys})}")
    for link in found.links:
        if labels[link.left] != labels[link.right]:
            print(f"    {link.reason} (name {link.name_score}):")
            print(f"      {describe(raw[link.left])}")
            print(f"      {describe(raw[link.right])}")


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA))
