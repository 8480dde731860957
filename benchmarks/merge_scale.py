"""Time merging runs of 1,000, 10,000 and 100,000 candidate rows into DuckDB.

Each run folder is built from the offline sample directory: regions are
windows of neighbouring ZIP codes that overlap, so the same firms come back
from several regions, written differently, as they do in real runs. The rows
are taken from across the country and relabelled with one state (the state of
the run's config), so that the region checks keep them; everything else about
them is as the directory wrote them. The timed step is ``merge_run``: reading
the checkpoints, checking every row, normalising, clustering into companies
and replacing the run's rows in the database. Target: 100,000 rows in ≤ 10 s,
with growth close to linear.

    python benchmarks/merge_scale.py [sizes...]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import yaml
from sample_run import write_finished_region

from leadgen import gazetteer
from leadgen.checkpoint import TaggedCompany
from leadgen.config import load_config
from leadgen.directory import search_directory
from leadgen.plan import plan_run
from leadgen.spec import region_specs
from leadgen.warehouse import merge_run

SIZES = (1_000, 10_000, 100_000)
WINDOW, STRIDE = 6, 3  # each ZIP lies in two regions


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or list(SIZES)
    gazetteer.lookup("80202")  # load the gazetteer before timing anything
    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="leadgen-merge-") as tmp:
            run_dir, rows = _build_run(Path(tmp), size)
            db = Path(tmp) / "bench.duckdb"
            started = time.perf_counter()
            merged = merge_run(run_dir, db)
            seconds = time.perf_counter() - started
        results.append(
            {"rows": rows, "companies": merged.companies, "seconds": round(seconds, 3)}
        )
        print(
            f"{rows:>7,} candidate rows -> {merged.companies:>6,} companies: "
            f"merged in {seconds:.2f} s ({seconds / rows * 1e6:.0f} µs per row)"
        )
    print(json.dumps({"merge": results, "target_seconds_100k": 10.0}))


def _build_run(folder: Path, size: int) -> tuple[Path, int]:
    """A finished run folder with about ``size`` candidate rows."""
    zips = sorted(_all_zip_codes())
    regions, listings, total = [], {}, 0
    start = 0
    while total < size:
        window = zips[start : start + WINDOW]
        start = (start + STRIDE) % max(1, len(zips) - WINDOW)
        found = search_directory(window)[: size - total]
        name = f"Region {len(regions):05d}"
        regions.append({"name": name, "zip_codes": window})
        listings[name] = found
        total += len(found)

    config = {
        "name": "merge-bench",
        "target": {"description": "Residential property management companies"},
        "geography": {"metro": "Everywhere", "state": "CO", "regions": regions},
        "agent": {"model": "offline"},
    }
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    loaded = load_config(path)
    run_dir = folder / "run"
    (run_dir / "checkpoints").mkdir(parents=True)

    for spec in region_specs(loaded.batch, "offline"):
        rows = [
            TaggedCompany(
                name=item.name,
                website=item.website,
                phone=item.phone,
                street_address=item.street_address,
                city=item.city,
                state="CO",
                postal_code=item.postal_code,
                source_url=item.listing_url,
                meets_criteria=True,
                criteria_evidence=item.summary,
                rank=rank,
                discovery_source=spec.discovery_source,
            )
            for rank, item in enumerate(listings[spec.region], start=1)
        ]
        write_finished_region(run_dir, spec, rows)

    plan_run(loaded, run_dir).manifest.write(run_dir)
    return run_dir, total


def _all_zip_codes() -> list[str]:
    import zipcodes

    return [
        item["zip_code"]
        for item in zipcodes.list_all()
        if item["zip_code_type"] == "STANDARD" and item["active"]
    ]


if __name__ == "__main__":
    main()
