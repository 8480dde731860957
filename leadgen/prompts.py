"""The text a region agent is given: its instructions and its task message.

Both are plain functions of a ``RegionSpec`` so they can be hashed into the
cache key without importing the agents SDK. The task message states the
region's ground in fixed ``Label: value`` lines; the offline model reads them
back the way a real model reads the prose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadgen.providers import endpoint_of

if TYPE_CHECKING:
    from leadgen.spec import RegionSpec

NONE_LISTED = "(none listed)"
OFFLINE_TOOLS = ("search_directory",)
OPENAI_HOSTED_TOOLS = ("web_search",)
FUNCTION_TOOLS = ("web_search", "fetch_page")


def tool_names(spec: RegionSpec) -> list[str]:
    """Names of the tools the region agent gets; part of the cache key.

    The offline model searches its sample directory; the Responses API
    searches the web itself; every other provider gets leadgen's own
    ``web_search`` and ``fetch_page`` function tools.
    """
    if spec.is_offline:
        return list(OFFLINE_TOOLS)
    if endpoint_of(spec).hosted_tools:
        return list(OPENAI_HOSTED_TOOLS)
    return list(FUNCTION_TOOLS)


def region_instructions(spec: RegionSpec) -> str:
    """System instructions: confine the search, demand evidence, no contacts."""
    place = f"{spec.region} ({spec.metro}, {spec.state})"
    criteria = _criteria_sentence(spec)
    return "\n".join(
        [
            "You are a market researcher building a list of companies for sales.",
            f"Find every company in {place} that matches this description:",
            f"  {spec.description}",
            criteria,
            "",
            "Rules:",
            f"- Search only inside {spec.region}: its areas and ZIP codes given in the "
            "task. Skip companies whose only office is outside it.",
            "- Start with lists and directory pages, then search directly for more.",
            *_tool_rules(spec),
            "- Every company needs evidence: the URL of the page where you found it.",
            "- Return every eligible company you find, best matches first, up to "
            f"{spec.companies_per_region} companies. Mark a company that fails the "
            "criteria with meets_criteria false and say why.",
            "- Give the company's own website, main phone and the street address of "
            "its office in this region when the pages show them; use null when "
            "unknown. Never guess.",
            "- Do not look for contact people, e-mail addresses or personal phone "
            "numbers: this is discovery only.",
            "- Set search_exhausted to true only after you searched the whole region "
            "and further searches stopped finding new companies.",
        ]
    )


def region_input(spec: RegionSpec) -> str:
    """The task message for one region, one fact per line."""
    lines = [
        f"Region: {spec.region}",
        f"Metro: {spec.metro}, {spec.state}, {spec.country}",
        f"Areas: {'; '.join(spec.areas) or NONE_LISTED}",
        f"ZIP codes: {', '.join(spec.zip_codes) or NONE_LISTED}",
        f"Target: {spec.description}",
    ]
    if spec.min_units is not None:
        lines.append(f"Minimum units: {spec.min_units}")
    for requirement in spec.requirements:
        lines.append(f"Requirement: {requirement}")
    lines.append(f"Maximum companies: {spec.companies_per_region}")
    return "\n".join(lines)


def _tool_rules(spec: RegionSpec) -> list[str]:
    if "fetch_page" not in tool_names(spec):
        return []
    return [
        "- Use web_search to find pages and fetch_page to read a list, directory "
        "or company page when the search result alone does not show the facts."
    ]


def _criteria_sentence(spec: RegionSpec) -> str:
    parts = []
    if spec.min_units is not None:
        parts.append(f"manages at least {spec.min_units} units")
    parts.extend(spec.requirements)
    if not parts:
        return "Every company of that kind counts."
    return "A company meets the criteria when it " + "; and ".join(parts) + "."
