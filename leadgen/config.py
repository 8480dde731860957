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
from urllib.parse import urlsplit

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

# libyaml's loader is several times faster on configs with thousands of regions.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
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
    """One part of the geography, searched by one agent.

    ``places`` are city names the gazetteer must know in the config's state;
    ``load_config`` turns them into ZIP codes and areas. ``areas`` may also
    hold neighbourhood names, which only the agent reads.
    """

    name: NonEmpty
    places: list[NonEmpty] = Field(default_factory=list)
    areas: list[NonEmpty] = Field(default_factory=list)
    zip_codes: list[ZipCode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_ground(self) -> RegionConfig:
        if not self.areas and not self.zip_codes and not self.places:
            raise ValueError(
                "a region needs at least one of 'areas' or 'zip_codes' (or 'places')"
            )
        return self


class AutoRegions(_Strict):
    """Regions leadgen draws itself: the ZIP codes in a circle, split evenly."""

    center: NonEmpty
    radius_miles: float = Field(gt=0, le=300)
    regions: int = Field(ge=1, le=500)


class Geography(_Strict):
    """The metro and its regions: listed in ``regions`` or drawn by ``auto``."""

    metro: NonEmpty
    state: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    country: Literal["US"] = "US"
    regions: list[RegionConfig] = Field(default_factory=list)
    auto: AutoRegions | None = None

    @model_validator(mode="after")
    def _one_way_to_regions(self) -> Geography:
        if self.auto is not None and self.regions:
            raise ValueError("give either 'regions' or 'auto', not both")
        if self.auto is None and not self.regions:
            raise ValueError(
                "give 'regions' (a list) or 'auto' (center, radius_miles, regions)"
            )
        return self

    @field_validator("regions")
    @classmethod
    def _unique_names(cls, regions: list[RegionConfig]) -> list[RegionConfig]:
        if not regions:
            raise ValueError(
                "list at least one region, or use 'auto' to have leadgen draw them"
            )
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


class ModelPrice(_Strict):
    """What a model costs in US dollars: per million tokens, per 1,000 searches."""

    input: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    output: float = Field(ge=0)
    search_per_1k: float = Field(default=0.0, ge=0)


class AgentSettings(_Strict):
    """The model and limits of each region agent.

    Keys never go in a config (it is copied into every run manifest); they are
    read from the environment variable named by ``api_key_env``.
    """

    model: NonEmpty = "auto"
    api: Literal["responses", "chat_completions"] | None = None
    base_url: str | None = None
    api_key_env: Annotated[str, StringConstraints(pattern=ENV_NAME_PATTERN)] | None = (
        None
    )
    structured_output: Literal["auto", "json_schema", "json_object", "text"] = "auto"
    max_turns: int = Field(default=10, ge=1, le=200)
    timeout_seconds: float = Field(default=900.0, gt=0, le=86_400)
    request_timeout_seconds: float = Field(default=120.0, gt=0, le=3600)
    http_retries: int = Field(default=4, ge=0, le=20)
    requests_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    tokens_per_minute: int | None = Field(default=None, ge=1, le=1_000_000_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    tracing: bool = False
    prices: dict[NonEmpty, ModelPrice] = Field(default_factory=dict)

    @field_validator("base_url")
    @classmethod
    def _plain_http_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        return check_base_url(url)


def check_base_url(url: str) -> str:
    """An http(s) server address without credentials, trailing slash removed.

    Raises:
        ValueError: for another scheme, a missing host or a user name or
            password in the address (it would be copied into run manifests).
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"expected an http:// or https:// server address such as "
            f"http://localhost:8000/v1, got {url!r}"
        )
    if parts.username or parts.password:
        raise ValueError(
            "remove the user name and password from the address; put the key in "
            "the environment variable named by agent.api_key_env"
        )
    return url.strip().rstrip("/")


class RunSettings(_Strict):
    """How the batch is executed; none of this changes an answer.

    ``executor`` is ``process`` (a process pool on this machine) or ``dask``
    (the cluster whose scheduler is at ``scheduler``, e.g. tcp://host:8786).
    """

    workers: int = Field(default=4, ge=1, le=256)
    regions_per_worker: int = Field(default=1, ge=1, le=64)
    retries: int = Field(default=1, ge=0, le=10)
    min_success_share: float = Field(default=0.75, ge=0, le=1)
    executor: Literal["process", "dask"] = "process"
    scheduler: NonEmpty | None = None

    @model_validator(mode="after")
    def _scheduler_needs_dask(self) -> RunSettings:
        if self.scheduler is not None and self.executor != "dask":
            raise ValueError("'scheduler' is used only with 'executor: dask'")
        return self


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
        """The concrete regions; automatic ones exist once ``load_config`` drew them."""
        if self.geography.auto is not None:
            raise ValueError("load_config draws automatic regions; load the config")
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
    return LoadedConfig(path=path, batch=_concrete_regions(path, batch))


def _concrete_regions(path: Path, batch: BatchConfig) -> BatchConfig:
    """Draw automatic regions and resolve places, with errors naming the file."""
    # Imported here: geography builds on this module's models, and only configs
    # with 'auto' or 'places' pay for loading the gazetteer.
    from leadgen.geography import GeographyError, resolve_geography

    try:
        return resolve_geography(batch)
    except GeographyError as exc:
        raise ConfigError(f"{path}: {exc.field}: {exc.reason}") from None
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None


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
        data = yaml.load(text, Loader=_SAFE_LOADER)
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
