"""Batch configs: what to look for, where, with which agent, and how to run.

A config is YAML validated by pydantic. Every problem is reported as one line
naming the file, the field path and what is expected, so a user can fix it
without reading a traceback.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from leadgen.errors import ConfigError

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ZIP_PATTERN = r"^\d{5}$"


def _zip_from_int(value: Any) -> Any:
    # YAML reads an unquoted 80202 as an integer; five-digit integers are safe
    # to take back, shorter ones lost a leading zero and must be quoted.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10000:
        return str(value)
    return value


ZipCode = Annotated[
    str, BeforeValidator(_zip_from_int), StringConstraints(pattern=ZIP_PATTERN)
]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criteria(_Strict):
    """Conditions a company must meet to count as a lead."""

    min_units: int | None = Field(default=None, ge=1, le=1_000_000)
    requirements: list[NonEmpty] = Field(default_factory=list)


class Target(_Strict):
    """The kind of company the batch looks for."""

    description: NonEmpty
    criteria: Criteria = Field(default_factory=Criteria)
    companies_per_region: int = Field(default=25, ge=1, le=500)


class RegionConfig(_Strict):
    """One part of the geography, searched by one agent."""

    name: NonEmpty
    areas: list[NonEmpty] = Field(default_factory=list)
    zip_codes: list[ZipCode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_ground(self) -> RegionConfig:
        if not self.areas and not self.zip_codes:
            raise ValueError("a region needs at least one of 'areas' or 'zip_codes'")
        return self


class Geography(_Strict):
    """The metro and the regions it is split into."""

    metro: NonEmpty
    state: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    country: Literal["US"] = "US"
    regions: list[RegionConfig] = Field(min_length=1)

    @field_validator("regions")
    @classmethod
    def _unique_names(cls, regions: list[RegionConfig]) -> list[RegionConfig]:
        seen: dict[str, str] = {}
        for region in regions:
            slug = region_slug(region.name)
            if slug in seen:
                raise ValueError(
                    f"region names must be unique: {region.name!r} repeats "
                    f"{seen[slug]!r}; rename one of them"
                )
            seen[slug] = region.name
        return regions


class AgentSettings(_Strict):
    """The model and limits of each region agent."""

    model: NonEmpty = "auto"
    max_turns: int = Field(default=10, ge=1, le=200)
    timeout_seconds: float = Field(default=900.0, gt=0, le=86_400)
    temperature: float | None = Field(default=None, ge=0, le=2)
    tracing: bool = False


class RunSettings(_Strict):
    """How the batch is executed; none of this changes an answer."""

    workers: int = Field(default=4, ge=1, le=256)
    retries: int = Field(default=1, ge=0, le=10)
    min_success_share: float = Field(default=0.75, ge=0, le=1)


class BatchConfig(_Strict):
    """A whole batch: target, geography, agent and run settings."""

    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN)] | None = None
    target: Target
    geography: Geography
    agent: AgentSettings = Field(default_factory=AgentSettings)
    run: RunSettings = Field(default_factory=RunSettings)

    @field_validator("name")
    @classmethod
    def _no_dots_only(cls, name: str | None) -> str | None:
        if name is not None and set(name) <= {"."}:
            raise ValueError("a run name cannot be only dots")
        return name

    @property
    def regions(self) -> list[RegionConfig]:
        return self.geography.regions

    def config_hash(self) -> str:
        """Hash of the whole config, recorded in the run manifest."""
        return canonical_hash(self.model_dump(mode="json"))


class LoadedConfig(BaseModel):
    """A validated config together with where it came from."""

    model_config = ConfigDict(frozen=True)

    path: Path
    batch: BatchConfig

    @property
    def name(self) -> str:
        return self.batch.name or self.path.stem


def region_slug(name: str) -> str:
    """File-name-safe form of a region name: 'North Denver' -> 'north-denver'."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "region"


def discovery_source(region_name: str) -> str:
    """The tag that says which region's agent found a company."""
    return "agent:multi_region:" + re.sub(r"\s+", "_", region_name.strip())


def canonical_hash(value: Any) -> str:
    """SHA-256 of the canonical JSON form of a value (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_config(path: str | Path) -> LoadedConfig:
    """Read and validate a batch config.

    Raises:
        ConfigError: with a one-line message naming the file and the field.
    """
    path = Path(path)
    raw = _read_yaml(path)
    try:
        batch = BatchConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None

    if batch.name is None and not re.match(NAME_PATTERN, path.stem):
        raise ConfigError(
            f"{path}: name: the file name {path.stem!r} cannot name a run folder; "
            "add a 'name:' of letters, digits, '-', '_' or '.'"
        )
    return LoadedConfig(path=path, batch=batch)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; check the path") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; give a YAML config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"{path}: cannot read the file: {reason}") from None

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {_yaml_reason(exc)}") from None

    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ConfigError(
            f"{path}: (top level): the file is {kind}; expected a mapping with "
            "'target' and 'geography'"
        )
    return data


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "invalid YAML"
    if mark is None:
        return f"YAML syntax error: {problem}"
    return (
        f"line {mark.line + 1}, column {mark.column + 1}: YAML syntax error: "
        f"{problem}; fix the YAML at that position"
    )


def format_validation_error(path: Path, exc: ValidationError) -> str:
    """One line for the first problem pydantic found, with a count of the rest."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = _field_path(first["loc"])
    message = _explain(first)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{path}: {where}: {message}{more}"


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts = ""
    for item in loc:
        if isinstance(item, int):
            parts += f"[{item}]"
        elif parts:
            parts += f".{item}"
        else:
            parts = str(item)
    return parts or "(top level)"


def _explain(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling"
    if kind == "missing":
        return "required field is missing; add it"
    if kind == "string_pattern_mismatch":
        return _pattern_hint(error)
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    received = error.get("input")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{message.lower()} (got {received!r})"
    return message


def _pattern_hint(error: Any) -> str:
    pattern = error.get("ctx", {}).get("pattern", "")
    received = error.get("input")
    if pattern == ZIP_PATTERN:
        return f"expected a five-digit ZIP code in quotes, got {received!r}"
    if pattern == NAME_PATTERN:
        return (
            f"expected letters, digits, '-', '_' or '.' (at most 64), got "
            f"{received!r}; a run name cannot contain '/' or start with '.'"
        )
    return f"expected text matching {pattern}, got {received!r}"
