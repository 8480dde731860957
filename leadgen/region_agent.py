"""Build the agent that searches one region.

The agent is built inside the worker process that runs it: agents with
function tools do not pickle, so only the plain ``RegionSpec`` travels.
"""

from __future__ import annotations

import dataclasses
import json

from agents import (
    Agent,
    FunctionTool,
    Model,
    ModelSettings,
    WebSearchTool,
    function_tool,
)

from leadgen.directory import search_directory as directory_search
from leadgen.offline_model import SEARCH_TOOL, OfflineModel
from leadgen.prompts import region_instructions
from leadgen.schema import LeadListOutput
from leadgen.spec import RegionSpec


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


def build_agent(spec: RegionSpec, *, latency: float = 0.0) -> Agent[None]:
    """The region agent: confined instructions, its tools, ``LeadListOutput``."""
    model: str | Model
    tools: list[FunctionTool | WebSearchTool]

    if spec.is_offline:
        model = OfflineModel(latency=latency)
        tools = [search_directory]
    else:
        model = spec.model
        tools = [web_search_tool(spec)]

    return Agent(
        name=f"leadgen region agent: {spec.region}",
        instructions=region_instructions(spec),
        model=model,
        model_settings=ModelSettings(temperature=spec.temperature),
        tools=list(tools),
        output_type=LeadListOutput,
    )


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
