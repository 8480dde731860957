"""Which model provider a region agent talks to, and whether it can.

A model name alone means OpenAI's own endpoint (Responses API, hosted web
search). A ``base_url`` (config or ``OPENAI_BASE_URL``) sends the name as-is
to an OpenAI-compatible server (chat completions and leadgen's own search and
page tools by default). ``litellm/<provider>/<model>`` goes through LiteLLM.

Everything here runs in the driver and never imports the agents SDK. Workers
fork from a server process that may have started before a key was set, so
the driver reads keys from the environment and ``preflight`` hands them to
the workers inside ``ProviderSettings``, hidden from every ``repr``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx2
from loguru import logger

from leadgen.config import AgentSettings, check_base_url
from leadgen.errors import ProviderError
from leadgen.pricing import Price, price_for
from leadgen.ratelimit import STATE_FILE, RateLimits

if TYPE_CHECKING:
    from leadgen.plan import RunPlan
    from leadgen.spec import RegionSpec

OFFLINE = "offline"
OPENAI = "openai"
COMPATIBLE = "compatible"
LITELLM = "litellm"

RESPONSES = "responses"
CHAT_COMPLETIONS = "chat_completions"

OPENAI_KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"
SEARCH_KEY_ENV = "TAVILY_API_KEY"
LITELLM_PREFIX = "litellm/"
OPENAI_PREFIX = "openai/"
PROBE_SECONDS = 3.0


@dataclass(frozen=True)
class Endpoint:
    """Where a region's model requests go.

    Args:
        provider: ``offline``, ``openai`` (OpenAI's own endpoint),
            ``compatible`` (a server at ``base_url``) or ``litellm``.
        model: The model name as the provider expects it.
        api: ``responses`` or ``chat_completions``; None for offline and LiteLLM.
        base_url: The server address, or None for the provider's default.
    """

    provider: str
    model: str
    api: str | None = None
    base_url: str | None = None

    @property
    def hosted_tools(self) -> bool:
        """True when the provider runs web search itself (Responses API)."""
        return self.api == RESPONSES

    @property
    def function_tools(self) -> bool:
        """True when leadgen's own ``web_search`` and ``fetch_page`` are used."""
        return self.provider in (OPENAI, COMPATIBLE, LITELLM) and not self.hosted_tools


@dataclass(frozen=True)
class Credentials:
    """Keys a worker needs; never printed, logged or saved."""

    api_key: str | None = field(default=None, repr=False)
    search_key: str | None = field(default=None, repr=False)

    def secrets(self) -> list[str]:
        """The keys that are set, for scrubbing them out of error messages."""
        return [key for key in (self.api_key, self.search_key) if key]


@dataclass(frozen=True)
class ProviderSettings:
    """How workers reach the provider; nothing here changes an answer.

    Args:
        credentials: The model and search keys.
        request_timeout: Seconds one model request may take.
        http_retries: Retries of one model request after 429, 5xx or a timeout.
        limits: Requests and tokens per minute over all workers, if limited.
        price: The model's price, or None when unknown.
        trace_export: Whether traces go to OpenAI (only for OpenAI itself).
    """

    credentials: Credentials = field(default_factory=Credentials, repr=False)
    request_timeout: float = 120.0
    http_retries: int = 4
    limits: RateLimits | None = None
    price: Price | None = None
    trace_export: bool = False


def resolve_endpoint(
    agent: AgentSettings, model: str, environ: Mapping[str, str] | None = None
) -> Endpoint:
    """Decide the provider, API and server for a resolved model name.

    Raises:
        ProviderError: for ``model: auto`` with a base URL, a bad
            ``OPENAI_BASE_URL`` or an unknown provider prefix.
    """
    env = os.environ if environ is None else environ
    if model == OFFLINE:
        return Endpoint(OFFLINE, OFFLINE)
    if model.startswith(LITELLM_PREFIX):
        return Endpoint(LITELLM, model[len(LITELLM_PREFIX) :], None, agent.base_url)

    base_url = agent.base_url or _env_base_url(env)
    if base_url is not None:
        if agent.model == "auto":
            raise ProviderError(
                f"agent.model: 'auto' cannot be used with the server {base_url}; "
                "name the model it serves"
            )
        return Endpoint(COMPATIBLE, model, agent.api or CHAT_COMPLETIONS, base_url)

    name = _without_openai_prefix(model)
    return Endpoint(OPENAI, name, agent.api or RESPONSES, None)


def endpoint_of(spec: RegionSpec) -> Endpoint:
    """The endpoint a region spec was resolved to (the spec keeps its parts)."""
    if spec.model == OFFLINE:
        return Endpoint(OFFLINE, OFFLINE)
    if spec.model.startswith(LITELLM_PREFIX):
        name = spec.model[len(LITELLM_PREFIX) :]
        return Endpoint(LITELLM, name, None, spec.base_url)
    if spec.base_url is not None:
        return Endpoint(COMPATIBLE, spec.model, spec.api, spec.base_url)
    return Endpoint(OPENAI, _without_openai_prefix(spec.model), spec.api, None)


def search_backend(
    endpoint: Endpoint, environ: Mapping[str, str] | None = None
) -> str | None:
    """The web search behind the ``web_search`` function tool, if there is one.

    Tavily when ``TAVILY_API_KEY`` is set, else DuckDuckGo's keyless HTML
    results; None when the provider searches itself or there is no search.
    """
    if not endpoint.function_tools:
        return None
    env = os.environ if environ is None else environ
    return "tavily" if env.get(SEARCH_KEY_ENV) else "duckduckgo"


def preflight(
    plan: RunPlan,
    environ: Mapping[str, str] | None = None,
    probe_seconds: float = PROBE_SECONDS,
) -> ProviderSettings:
    """Check that the run's provider can be used and collect what workers need.

    Runs before any worker starts, so a missing key or a server that is down
    costs one clear line instead of a batch of failed regions.

    Raises:
        ProviderError: when the key is missing, the server cannot be reached
            or refuses the key, or the LiteLLM extra is not installed.
    """
    env = os.environ if environ is None else environ
    agent = plan.loaded.batch.agent
    settings = ProviderSettings(
        request_timeout=agent.request_timeout_seconds,
        http_retries=agent.http_retries,
        limits=_limits(agent, plan),
        price=price_for(plan.model, agent.prices),
    )
    if not plan.todo:
        return settings
    spec = plan.todo[0].spec
    endpoint = endpoint_of(spec)
    if endpoint.provider == OFFLINE:
        return settings

    if endpoint.provider == LITELLM:
        _require_litellm(spec.model)
    api_key = _api_key(agent, endpoint, env)
    if endpoint.provider == COMPATIBLE and endpoint.base_url is not None:
        _probe(endpoint.base_url, api_key, probe_seconds)

    search_key = env.get(SEARCH_KEY_ENV) if spec.search_backend == "tavily" else None
    trace_export = agent.tracing and endpoint.provider == OPENAI
    if agent.tracing and not trace_export:
        logger.warning(
            "agent.tracing is on, but traces are only exported for OpenAI's own "
            "endpoint; tracing stays off for this provider"
        )
    return ProviderSettings(
        credentials=Credentials(api_key=api_key, search_key=search_key),
        request_timeout=settings.request_timeout,
        http_retries=settings.http_retries,
        limits=settings.limits,
        price=settings.price,
        trace_export=trace_export,
    )


def _env_base_url(env: Mapping[str, str]) -> str | None:
    value = env.get(BASE_URL_ENV, "").strip()
    if not value:
        return None
    try:
        return check_base_url(value)
    except ValueError as exc:
        raise ProviderError(f"{BASE_URL_ENV}: {exc}") from None


def _without_openai_prefix(model: str) -> str:
    if "/" not in model:
        return model
    prefix, rest = model.split("/", 1)
    if prefix == "openai":
        return rest
    raise ProviderError(
        f"agent.model {model!r}: unknown provider prefix {prefix!r}; use an OpenAI "
        "model name, 'litellm/<provider>/<model>', or set agent.base_url (or "
        f"{BASE_URL_ENV}) to send the name as it is to an OpenAI-compatible server"
    )


def _limits(agent: AgentSettings, plan: RunPlan) -> RateLimits | None:
    if not (agent.requests_per_minute or agent.tokens_per_minute):
        return None
    return RateLimits(
        # Absolute: a cluster worker runs in another folder than the driver.
        state_path=str((plan.run_dir / STATE_FILE).absolute()),
        requests_per_minute=agent.requests_per_minute,
        tokens_per_minute=agent.tokens_per_minute,
    )


def _require_litellm(model: str) -> None:
    if importlib.util.find_spec("litellm") is None:
        raise ProviderError(
            f"agent.model {model!r} needs LiteLLM, which is not installed; "
            "install it with: pip install 'leadgen[litellm]'"
        )


def _api_key(
    agent: AgentSettings, endpoint: Endpoint, env: Mapping[str, str]
) -> str | None:
    """The model key from the environment; required for OpenAI itself."""
    name = agent.api_key_env or (
        OPENAI_KEY_ENV if endpoint.provider != LITELLM else None
    )
    if name is None:
        return None  # LiteLLM reads its providers' own variables
    key = env.get(name, "").strip() or None
    explicit = agent.api_key_env is not None
    if key is None and (endpoint.provider == OPENAI or explicit):
        raise ProviderError(
            f"agent.model {endpoint.model!r} needs an API key: set {name} in the "
            "environment (agent.api_key_env names another variable)"
        )
    return key


def _probe(base_url: str, api_key: str | None, seconds: float) -> None:
    """GET ``/models`` once: the server must answer and accept the key."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with httpx2.Client(timeout=seconds) as client:
            response = client.get(f"{base_url}/models", headers=headers)
    except httpx2.TransportError as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise ProviderError(
            f"agent.base_url {base_url}: cannot reach the server ({reason}); check "
            "that it is running and that the address is right"
        ) from None
    if response.status_code in (401, 403):
        raise ProviderError(
            f"agent.base_url {base_url}: the server refused the API key "
            f"(HTTP {response.status_code}); check the key's environment variable"
        )
