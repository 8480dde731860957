"""A deterministic stand-in for an LLM, for runs without a key and for tests.

``OfflineModel`` implements the SDK's ``Model`` interface, so the real
``Runner`` drives it exactly as it drives a hosted model: on the first turn it
reads the region's ZIP codes and areas from the task message and calls the
``search_directory`` tool; once the tool has answered it returns a
``LeadListOutput`` built from the listings, eligible companies first.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from agents import (
    AgentOutputSchemaBase,
    Handoff,
    Model,
    ModelResponse,
    ModelSettings,
    ModelTracing,
    Tool,
    TResponseInputItem,
    Usage,
)
from agents.items import TResponseStreamEvent
from agents.testing import assistant_message, function_call
from openai.types.responses.response_prompt_param import ResponsePromptParam

from leadgen.schema import CompanyLead, LeadListOutput

SEARCH_TOOL = "search_directory"

_GENERIC_WORDS = {"and", "or", "of", "the", "a", "for", "company", "companies", "firm"}


class OfflineModel(Model):
    """Scripted search agent over the built-in sample directory.

    Args:
        latency: Seconds to wait on every turn, to mimic a hosted model.
    """

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self._calls = 0

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> ModelResponse:
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        self._calls += 1

        items = (
            [{"role": "user", "content": input}] if isinstance(input, str) else input
        )
        task = _task_text(items)
        tool_output = _last_tool_output(items)

        if tool_output is None:
            arguments = {
                "zip_codes": _list_field(task, "ZIP codes", ","),
                "areas": _list_field(task, "Areas", ";"),
            }
            item = function_call(
                SEARCH_TOOL, arguments, call_id=f"offline-call-{self._calls}"
            )
            reply = json.dumps(arguments)
        else:
            answer = build_answer(task, json.loads(tool_output))
            reply = answer.model_dump_json()
            item = assistant_message(reply, item_id=f"offline-msg-{self._calls}")

        usage = Usage(
            requests=1,
            input_tokens=_tokens(system_instructions or "")
            + _tokens(json.dumps(items)),
            output_tokens=_tokens(reply),
        )
        usage.total_tokens = usage.input_tokens + usage.output_tokens
        return ModelResponse(output=[item], usage=usage, response_id=None)

    def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        raise NotImplementedError("the offline model does not stream")


def build_answer(task: str, listings: Sequence[dict[str, Any]]) -> LeadListOutput:
    """Judge directory listings against the task's criteria, best first."""
    min_units = _int_field(task, "Minimum units")
    limit = _int_field(task, "Maximum companies")
    target = _field(task, "Target") or ""

    judged = [_judge(listing, target, min_units) for listing in listings]
    judged.sort(key=lambda lead: not lead.meets_criteria)
    kept = judged[:limit] if limit is not None else judged

    notes = (
        f"Sample data from the offline directory: {len(listings)} listings, "
        f"{sum(lead.meets_criteria for lead in judged)} meet the criteria."
    )
    return LeadListOutput(
        companies=kept,
        search_exhausted=limit is None or len(judged) <= limit,
        quality_notes=notes,
    )


def _judge(listing: dict[str, Any], target: str, min_units: int | None) -> CompanyLead:
    category = str(listing.get("category") or "")
    units = listing.get("units_managed")
    reasons = []

    kind_ok = _category_matches(category, target)
    if not kind_ok:
        reasons.append(f"listed as {category}, not the target kind")
    size_ok = min_units is None or (isinstance(units, int) and units >= min_units)
    if not size_ok:
        shown = "unknown" if units is None else str(units)
        reasons.append(f"manages {shown} units, fewer than {min_units} required")

    meets = kind_ok and size_ok
    evidence = (
        f"Directory lists {category} with {units} units."
        if meets
        else "Fails the criteria: " + "; ".join(reasons) + "."
    )
    return CompanyLead(
        name=str(listing["name"]),
        website=listing.get("website"),
        phone=listing.get("phone"),
        street_address=listing.get("street_address"),
        city=listing.get("city"),
        state=listing.get("state"),
        postal_code=listing.get("postal_code"),
        source_url=listing.get("listing_url"),
        meets_criteria=meets,
        criteria_evidence=evidence,
    )


def _category_matches(category: str, target: str) -> bool:
    """Every word of the category appears (by its stem) in the target text."""
    target_stems = {word[:6] for word in re.findall(r"[a-z]+", target.lower())}
    words = [
        w for w in re.findall(r"[a-z]+", category.lower()) if w not in _GENERIC_WORDS
    ]
    return bool(words) and all(word[:6] in target_stems for word in words)


def _task_text(items: Sequence[Any]) -> str:
    for item in items:
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "\n".join(str(part.get("text", "")) for part in content)
    return ""


def _last_tool_output(items: Sequence[Any]) -> str | None:
    for item in reversed(items):
        if isinstance(item, dict) and item.get("type") == "function_call_output":
            output = item.get("output")
            return output if isinstance(output, str) else json.dumps(output)
    return None


def _field(task: str, label: str) -> str | None:
    match = re.search(rf"^{re.escape(label)}:\s*(.*)$", task, flags=re.MULTILINE)
    return match.group(1).strip() if match else None


def _list_field(task: str, label: str, separator: str) -> list[str]:
    value = _field(task, label)
    if not value or value.startswith("("):
        return []
    return [part.strip() for part in value.split(separator) if part.strip()]


def _int_field(task: str, label: str) -> int | None:
    value = _field(task, label)
    return int(value) if value and value.isdigit() else None


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)
