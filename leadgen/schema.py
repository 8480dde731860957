"""The structured answer a region agent returns.

These models are sent to the model as a strict JSON schema, so every field is
required, unknown values are ``null`` rather than missing, and no field has a
default. Bump ``SCHEMA_VERSION`` whenever a field changes: it is part of every
cache key, so old checkpoints stop counting as finished.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1"


class CompanyLead(BaseModel):
    """One company an agent found, with the evidence for it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The company's name as it presents itself.")
    website: str | None = Field(description="Home page URL, or null if unknown.")
    phone: str | None = Field(description="Main phone number, or null if unknown.")
    street_address: str | None = Field(
        description="Street address of the office in this region, or null."
    )
    city: str | None = Field(description="City of that office, or null.")
    state: str | None = Field(description="Two-letter state code, or null.")
    postal_code: str | None = Field(description="Five-digit ZIP code, or null.")
    source_url: str | None = Field(
        description="The page where the company was found (the evidence), or null."
    )
    meets_criteria: bool = Field(
        description="True when the evidence shows the company meets the criteria."
    )
    criteria_evidence: str = Field(
        description="Why the company does or does not meet the criteria."
    )


class LeadListOutput(BaseModel):
    """A region agent's whole answer: companies best first, plus notes."""

    model_config = ConfigDict(extra="forbid")

    companies: list[CompanyLead] = Field(
        description="Every eligible company found in the region, best first."
    )
    search_exhausted: bool = Field(
        description="True only when further searching is unlikely to find more."
    )
    quality_notes: str = Field(
        description="Gaps, doubts or limits of this search worth knowing about."
    )
