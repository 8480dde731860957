"""What a region agent is asked to do, as plain data, and its cache key.

A ``RegionSpec`` holds everything that changes a region's answer and nothing
else; the cache key hashes it together with the prompt text, the tool set and
the output schema version. Timing knobs (workers, timeouts, simulated latency)
live on the task instead, so changing them never reruns a finished region.
This module does not import the agents SDK: the driver uses it at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from leadgen.config import BatchConfig, canonical_hash, discovery_source, region_slug
from leadgen.prompts import region_input, region_instructions, tool_names
from leadgen.providers import resolve_endpoint, search_backend
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
    api: str | None = None
    base_url: str | None = None
    structured_output: str = "json_schema"
    search_backend: str | None = None

    @property
    def slug(self) -> str:
        return region_slug(self.region)

    @property
    def discovery_source(self) -> str:
        return discovery_source(self.region)

    @property
    def is_offline(self) -> bool:
        return self.model == OFFLINE_MODEL


_SPEC_FIELDS = tuple(field.name for field in fields(RegionSpec))


def resolve_model(model: str, environ: dict[str, str] | None = None) -> str:
    """Turn ``auto`` into a concrete model name; other names pass through.

    ``auto`` means a real OpenAI model when ``OPENAI_API_KEY`` is set and the
    offline sample-data model otherwise.
    """
    env = os.environ if environ is None else environ
    if model != "auto":
        return model
    return DEFAULT_OPENAI_MODEL if env.get("OPENAI_API_KEY") else OFFLINE_MODEL


def region_specs(
    batch: BatchConfig, model: str, environ: Mapping[str, str] | None = None
) -> list[RegionSpec]:
    """One spec per configured region, in config order, for a resolved model.

    The provider's API, server and search backend are part of each spec, so
    answers from different endpoints never share a checkpoint.

    Raises:
        ProviderError: when the model names an unknown provider.
    """
    target = batch.target
    geography = batch.geography
    endpoint = resolve_endpoint(batch.agent, model, environ)
    # The offline model has one way of answering; other settings must not
    # invalidate its checkpoints.
    output_mode = (
        "json_schema" if model == OFFLINE_MODEL else batch.agent.structured_output
    )
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
            api=endpoint.api,
            base_url=endpoint.base_url,
            structured_output=output_mode,
            search_backend=search_backend(endpoint, environ),
        )
        for region in geography.regions
    ]


def cache_key(spec: RegionSpec) -> str:
    """Hash of every input that changes the region's answer."""
    material = {
        "spec": {name: getattr(spec, name) for name in _SPEC_FIELDS},
        "instructions": region_instructions(spec),
        "input": region_input(spec),
        "tools": tool_names(spec),
        "schema_version": SCHEMA_VERSION,
    }
    return canonical_hash(material)
