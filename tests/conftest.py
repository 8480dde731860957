"""Shared fixtures: small configs in temporary folders, no network, no key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

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
