"""Build the agent that searches one region.

The agent is built inside the worker process that runs it: agents with
function tools do not pickle, so only the plain ``RegionSpec`` travels. Its
tools follow the provider (see ``leadgen.prompts.tool_names``) and its answer
format follows the structured-output mode.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from agents import (
    Agent,
    Model,
    ModelSettings,
    Tool,
    WebSearchTool,
    function_tool,
)

from leadgen.directory import search_directory as directory_search
from leadgen.json_output import reply_instructions
from leadgen.offline_model import SEARCH_TOOL
from leadgen.prompts import region_instructions
from leadgen.providers import RESPONSES, endpoint_of
from leadgen.schema import LeadListOutput
from leadgen.spec import RegionSpec
from leadgen.web_tools import web_tools

JSON_SCHEMA = "json_schema"
JSON_OBJECT = "json_object"
TEXT = "text"


@function_tool(name_override=SEARCH_TOOL)
def search_directory(zip_codes: list[str], areas: list[str]) -> str:
    """Search the business directory for companies in the given ZIP codes and areas.

    Args:
        zip_codes: Five-digit ZIP codes to search.
        areas: City or neighbourhood names to search as well.
    """
    listings = directory_search(zip_codes, areas)
    rows = []
    for listing in listings:
        row = dataclasses.asdict(listing)
        # The firm id is the sample data's hidden truth; a real directory has none.
        row.pop("firm_id", None)
        rows.append(row)
    return json.dumps(rows)


def build_agent(
    spec: RegionSpec,
    model: Model,
    *,
    output_mode: str = JSON_SCHEMA,
    search_key: str | None = None,
    extra_args: dict[str, Any] | None = None,
) -> Agent[None]:
    """The region agent: confined instructions, the provider's tools, an answer.

    Args:
        spec: The region and everything that decides its answer.
        model: The model object to run (never a name: names with '/' in them
            would be read as provider prefixes).
        output_mode: ``json_schema`` makes ``LeadListOutput`` the output type;
            ``json_object`` and ``text`` put its schema in the instructions
            and leave the reply as text, to be parsed.
        search_key: The key of the web search backend, if it needs one.
        extra_args: More request arguments for the model client.
    """
    instructions = region_instructions(spec)
    if output_mode != JSON_SCHEMA:
        instructions += "\n\n" + reply_instructions()
    args = {**_format_args(spec, output_mode), **(extra_args or {})}

    return Agent(
        name=f"leadgen region agent: {spec.region}",
        instructions=instructions,
        model=model,
        model_settings=ModelSettings(
            temperature=spec.temperature, extra_args=args or None
        ),
        tools=region_tools(spec, search_key),
        output_type=LeadListOutput if output_mode == JSON_SCHEMA else None,
    )


def region_tools(spec: RegionSpec, search_key: str | None = None) -> list[Tool]:
    """The tools named by ``tool_names(spec)``, ready for the agent."""
    if spec.is_offline:
        return [search_directory]
    if endpoint_of(spec).hosted_tools:
        return [web_search_tool(spec)]
    return list(web_tools(spec.search_backend or "duckduckgo", search_key))


def _format_args(spec: RegionSpec, output_mode: str) -> dict[str, Any]:
    # JSON mode without a schema: the Responses API and chat completions
    # spell it differently.
    if output_mode != JSON_OBJECT:
        return {}
    if endpoint_of(spec).api == RESPONSES:
        return {"text": {"format": {"type": "json_object"}}}
    return {"response_format": {"type": "json_object"}}


def web_search_tool(spec: RegionSpec) -> WebSearchTool:
    """Hosted web search located in the region's metro."""
    return WebSearchTool(
        user_location={
            "type": "approximate",
            "city": spec.metro,
            "region": spec.state,
            "country": spec.country,
        }
    )
