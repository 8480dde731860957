"""Shared fixtures: small configs in temporary folders, no network, no key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from leadgen.checkpoint import Checkpoint, RegionUsage, TaggedCompany
from leadgen.schema import SCHEMA_VERSION

REPO = Path(__file__).resolve().parent.parent

SMALL_REGIONS: list[dict[str, Any]] = [
    {"name": "Downtown", "areas": ["Capitol Hill"], "zip_codes": ["80202", "80203"]},
    {"name": "North Side", "areas": ["Highlands"], "zip_codes": ["80211", "80205"]},
    {"name": "South Side", "areas": ["Englewood"], "zip_codes": ["80209", "80110"]},
]


def small_config(**overrides: Any) -> dict[str, Any]:
    """A valid three-region offline config as plain data."""
    config: dict[str, Any] = {
        "name": "small",
        "target": {
            "description": "Residential property management companies",
            "criteria": {"min_units": 50},
            "companies_per_region": 10,
        },
        "geography": {"metro": "Denver", "state": "CO", "regions": SMALL_REGIONS},
        "agent": {"model": "offline", "max_turns": 5, "timeout_seconds": 60},
        "run": {"workers": 2, "retries": 1, "min_success_share": 0.75},
    }
    config.update(overrides)
    return config


@pytest.fixture(autouse=True)
def _no_real_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach a real model: no key, no tracing export."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("TAVILY_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_AGENTS_DISABLE_TRACING", "1")


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config (plain data or raw text) to a file and return its path."""

    def write(data: dict[str, Any] | str, name: str = "small.yaml") -> Path:
        path = tmp_path / name
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def sample_checkpoint(key: str = "k1") -> Checkpoint:
    """A valid one-company checkpoint for the Downtown region."""
    company = TaggedCompany(
        name="Summit Property Management",
        website="https://summit.example",
        phone="(303) 555-0101",
        street_address="1 Main St",
        city="Denver",
        state="CO",
        postal_code="80202",
        source_url="https://directory.leadgen.example/x",
        meets_criteria=True,
        criteria_evidence="manages 120 units",
        rank=1,
        discovery_source="agent:multi_region:Downtown",
    )
    return Checkpoint(
        schema_version=SCHEMA_VERSION,
        cache_key=key,
        region="Downtown",
        discovery_source="agent:multi_region:Downtown",
        model="offline",
        attempt=1,
        started_at=1.0,
        finished_at=2.0,
        seconds=1.0,
        usage=RegionUsage(
            requests=2, input_tokens=10, output_tokens=5, total_tokens=15
        ),
        companies=[company],
        search_exhausted=True,
        quality_notes="",
    )
