"""What a region agent is asked to do, as plain data, and its cache key.

A ``RegionSpec`` holds everything that changes a region's answer and nothing
else; the cache key hashes it together with the prompt text, the tool set and
the output schema version. Timing knobs (workers, timeouts, simulated latency)
live on the task instead, so changing them never reruns a finished region.
This module does not import the agents SDK: the driver uses it at start-up.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from leadgen.config import BatchConfig, canonical_hash, discovery_source, region_slug
from leadgen.prompts import region_input, region_instructions, tool_names
from leadgen.schema import SCHEMA_VERSION

OFFLINE_MODEL = "offline"
DEFAULT_OPENAI_MODEL = "gpt-5-mini"


@dataclass(frozen=True)
class RegionSpec:
    """Everything that decides one region's answer."""

    region: str
    areas: tuple[str, ...]
    zip_codes: tuple[str, ...]
    metro: str
    state: str
    country: str
    description: str
    min_units: int | None
    requirements: tuple[str, ...]
    companies_per_region: int
    model: str
    max_turns: int
    temperature: float | None

    @property
    def slug(self) -> str:
        return region_slug(self.region)

    @property
    def discovery_source(self) -> str:
        return discovery_source(self.region)

    @property
    def is_offline(self) -> bool:
        return self.model == OFFLINE_MODEL


def resolve_model(model: str, environ: dict[str, str] | None = None) -> str:
    """Turn ``auto`` into a concrete model name; other names pass through.

    ``auto`` means a real OpenAI model when ``OPENAI_API_KEY`` is set and the
    offline sample-data model otherwise.
    """
    env = os.environ if environ is None else environ
    if model != "auto":
        return model
    return DEFAULT_OPENAI_MODEL if env.get("OPENAI_API_KEY") else OFFLINE_MODEL


def region_specs(batch: BatchConfig, model: str) -> list[RegionSpec]:
    """One spec per configured region, in config order, for a resolved model."""
    target = batch.target
    geography = batch.geography
    return [
        RegionSpec(
            region=region.name,
            areas=tuple(region.areas),
            zip_codes=tuple(region.zip_codes),
            metro=geography.metro,
            state=geography.state,
            country=geography.country,
            description=target.description,
            min_units=target.criteria.min_units,
            requirements=tuple(target.criteria.requirements),
            companies_per_region=target.companies_per_region,
            model=model,
            max_turns=batch.agent.max_turns,
            temperature=batch.agent.temperature,
        )
        for region in geography.regions
    ]


def cache_key(spec: RegionSpec) -> str:
    """Hash of every input that changes the region's answer."""
    material = {
        "spec": asdict(spec),
        "instructions": region_instructions(spec),
        "input": region_input(spec),
        "tools": tool_names(spec),
        "schema_version": SCHEMA_VERSION,
    }
    return canonical_hash(material)
