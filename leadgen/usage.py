"""Counting what a region's model requests used, including failed attempts.

The SDK's own usage object only covers a run that finished or failed inside
the SDK; errors from the HTTP client carry none, and retried requests are not
counted. ``UsageMeter`` sits in front of the model instead, so every request
of a region is counted however the region ends. The module does not import
the agents SDK: the driver uses ``add_usage`` to sum attempts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from leadgen.pricing import Price, cost_usd

SEARCH_TOOL = "web_search"
HOSTED_SEARCH_ITEM = "web_search_call"


@dataclass
class UsageMeter:
    """Running totals of one region attempt's model usage."""

    requests: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    search_calls: int = 0

    def count_request(self) -> None:
        """Count one request sent to the model, whether it succeeds or not."""
        self.requests += 1

    def add_response(self, usage: Any, output: Iterable[Any]) -> None:
        """Add a model response's tokens and the web searches it made.

        Args:
            usage: The SDK's ``Usage`` of one response.
            output: The response's output items; hosted ``web_search_call``
                items and calls of the ``web_search`` function tool count as
                searches.
        """
        self.input_tokens += int(usage.input_tokens or 0)
        self.output_tokens += int(usage.output_tokens or 0)
        self.total_tokens += int(usage.total_tokens or 0)
        self.cached_tokens += _detail(usage.input_tokens_details, "cached_tokens")
        self.reasoning_tokens += _detail(
            usage.output_tokens_details, "reasoning_tokens"
        )
        self.search_calls += sum(_is_search(item) for item in output)

    def as_dict(self, price: Price | None) -> dict[str, Any]:
        """Plain numbers with the cost at ``price`` (``None`` when unknown)."""
        values: dict[str, Any] = asdict(self)
        values["cost_usd"] = cost_usd(values, price)
        return values


def add_usage(total: Mapping[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    """Sum two usage records: counts add up, a cost is known if either is.

    Used by the driver to keep a region's usage over all its attempts.
    """
    summed: dict[str, Any] = dict(total)
    for key, value in more.items():
        if key == "cost_usd":
            known = [c for c in (summed.get(key), value) if c is not None]
            summed[key] = round(sum(known), 6) if known else None
        elif isinstance(value, int | float):
            summed[key] = summed.get(key, 0) + value
        else:
            summed[key] = value
    return summed


def _detail(details: Any, name: str) -> int:
    # Providers answer with an object, a dict or nothing at all.
    if details is None:
        return 0
    if isinstance(details, Mapping):
        return int(details.get(name) or 0)
    return int(getattr(details, name, 0) or 0)


def _is_search(item: Any) -> bool:
    kind = item.get("type") if isinstance(item, Mapping) else getattr(item, "type", "")
    if kind == HOSTED_SEARCH_ITEM:
        return True
    name = item.get("name") if isinstance(item, Mapping) else getattr(item, "name", "")
    return kind == "function_call" and name == SEARCH_TOOL
