"""What a region's model usage cost, from a price table.

Prices are US dollars per million tokens (input, cached input, output) and
per 1,000 web searches. The built-in table holds list prices of common OpenAI
models at the time it was written; ``agent.prices`` in a config overrides or
extends it, which is also how a model on another server gets a cost. A model
with no known price gets no cost (``None``) rather than a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadgen.config import ModelPrice

OFFLINE_MODEL = "offline"
_SNAPSHOT_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_ROUTING_PREFIXES = ("openai/", "litellm/openai/", "litellm/")


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens and per 1,000 search calls."""

    input: float
    cached_input: float
    output: float
    search_per_1k: float = 0.0


FREE = Price(input=0.0, cached_input=0.0, output=0.0)

DEFAULT_PRICES: dict[str, Price] = {
    "gpt-5": Price(1.25, 0.125, 10.00, 10.0),
    "gpt-5-mini": Price(0.25, 0.025, 2.00, 10.0),
    "gpt-5-nano": Price(0.05, 0.005, 0.40, 10.0),
    "gpt-4.1": Price(2.00, 0.50, 8.00, 25.0),
    "gpt-4.1-mini": Price(0.40, 0.10, 1.60, 25.0),
    "gpt-4.1-nano": Price(0.10, 0.025, 0.40, 25.0),
    "gpt-4o": Price(2.50, 1.25, 10.00, 25.0),
    "gpt-4o-mini": Price(0.15, 0.075, 0.60, 25.0),
    "o3": Price(2.00, 0.50, 8.00, 10.0),
    "o4-mini": Price(1.10, 0.275, 4.40, 10.0),
}


def price_for(
    model: str, overrides: Mapping[str, ModelPrice] | None = None
) -> Price | None:
    """The price of a model: the config's entry first, then the built-in table.

    A config entry may name the model as configured (``openai/gpt-5-mini``) or
    as sent to the provider; dated snapshots such as ``gpt-5-mini-2025-08-07``
    fall back to their family's price.
    """
    if model == OFFLINE_MODEL:
        return FREE
    overrides = overrides or {}
    for name in _candidate_names(model):
        if name in overrides:
            return _from_config(overrides[name])
    for name in _candidate_names(model):
        if name in DEFAULT_PRICES:
            return DEFAULT_PRICES[name]
    return None


def cost_usd(usage: Mapping[str, Any], price: Price | None) -> float | None:
    """The cost of a usage record (plain numbers) at a price, rounded to 1e-6.

    Cached tokens are part of the input tokens and billed at the cached rate;
    reasoning tokens are part of the output tokens.
    """
    if price is None:
        return None
    input_tokens = int(usage.get("input_tokens", 0))
    cached = min(int(usage.get("cached_tokens", 0)), input_tokens)
    output_tokens = int(usage.get("output_tokens", 0))
    searches = int(usage.get("search_calls", 0))
    total = (
        (input_tokens - cached) * price.input
        + cached * price.cached_input
        + output_tokens * price.output
    ) / 1_000_000 + searches * price.search_per_1k / 1_000
    return round(total, 6)


def _candidate_names(model: str) -> list[str]:
    names = [model]
    for prefix in _ROUTING_PREFIXES:
        if model.startswith(prefix):
            names.append(model[len(prefix) :])
            break
    names += [_SNAPSHOT_SUFFIX.sub("", name) for name in names]
    return list(dict.fromkeys(names))


def _from_config(entry: ModelPrice) -> Price:
    cached = entry.input if entry.cached_input is None else entry.cached_input
    return Price(
        input=entry.input,
        cached_input=cached,
        output=entry.output,
        search_per_1k=entry.search_per_1k,
    )
