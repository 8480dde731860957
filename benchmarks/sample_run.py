"""Shared set-up for benchmarks: finished run folders without running agents."""

from __future__ import annotations

from pathlib import Path

from leadgen.checkpoint import Checkpoint, RegionUsage, TaggedCompany
from leadgen.plan import checkpoint_path
from leadgen.schema import SCHEMA_VERSION
from leadgen.spec import RegionSpec, cache_key


def write_finished_region(
    run_dir: Path, spec: RegionSpec, companies: list[TaggedCompany]
) -> None:
    """Save a valid checkpoint for ``spec`` (a plain write: this is set-up)."""
    checkpoint = Checkpoint(
        schema_version=SCHEMA_VERSION,
        cache_key=cache_key(spec),
        region=spec.region,
        discovery_source=spec.discovery_source,
        model=spec.model,
        attempt=1,
        started_at=0.0,
        finished_at=1.0,
        seconds=1.0,
        usage=RegionUsage(),
        companies=companies,
        search_exhausted=True,
        quality_notes="",
    )
    checkpoint_path(run_dir, spec).write_text(checkpoint.model_dump_json())
