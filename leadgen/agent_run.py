"""Run one region's agent against its provider and return its lead list.

This is where a worker meets the network: it builds the SDK model for the
region's endpoint (with its own HTTP client, closed when the region ends,
also when it is cancelled), wraps it in ``MeteredModel`` and runs the agent.

The answer format follows ``structured_output``. ``json_schema`` asks the
server to enforce the ``LeadListOutput`` schema; ``json_object`` and
``text`` put the schema in the instructions and parse the reply, with one
repair turn. ``auto`` tries ``json_schema`` and, when the server refuses it,
answers in text for the rest of the region; the worker process remembers the
refusal so its next regions on that server start in text.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from agents import (
    Agent,
    Model,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    set_tracing_disabled,
    set_tracing_export_api_key,
)
from loguru import logger
from openai import AsyncOpenAI

from leadgen import logs
from leadgen.errors import AgentOutputError, ProviderError
from leadgen.json_output import parse_answer, rejects_json_schema, repair_request
from leadgen.metered_model import MeteredModel
from leadgen.offline_model import OfflineModel
from leadgen.prompts import region_input
from leadgen.providers import (
    LITELLM,
    OFFLINE,
    RESPONSES,
    Endpoint,
    ProviderSettings,
    endpoint_of,
)
from leadgen.ratelimit import SharedBucket
from leadgen.region_agent import JSON_SCHEMA, TEXT, build_agent
from leadgen.retries import RetrySettings
from leadgen.schema import LeadListOutput
from leadgen.spec import RegionSpec
from leadgen.tasks import RegionTask
from leadgen.usage import UsageMeter

OPENAI_URL = "https://api.openai.com/v1"
NO_KEY = "no-key"  # servers without keys still need the header to be present

# Servers that refused json_schema in this worker process: (model, api, base_url).
_refused_schema: set[tuple[str, str | None, str | None]] = set()


async def run_agent(task: RegionTask, meter: UsageMeter) -> LeadListOutput:
    """Run the region's agent to a validated lead list, counting usage in ``meter``.

    Raises:
        AgentOutputError: when a JSON-text reply stays invalid after the
            repair turn.
        ProviderError: when the LiteLLM extra is missing in the worker.
        Exception: whatever the provider or the SDK raised; the worker
            records it as the region's failure.
    """
    spec = task.spec
    settings = task.provider or ProviderSettings()
    _configure_tracing(settings)

    async with open_model(task, settings, meter) as model:
        mode = _first_mode(spec)
        try:
            return await _run(spec, model, mode, settings)
        except Exception as exc:
            can_fall_back = mode == JSON_SCHEMA and spec.structured_output == "auto"
            if not (can_fall_back and rejects_json_schema(exc)):
                raise

        _refused_schema.add(_server(spec))
        logger.bind(region=spec.region).warning(
            "the server refused json_schema output; the agent answers in JSON "
            f"text instead  {logs.fields(region=spec.region, model=spec.model)}"
        )
        return await _run(spec, model, TEXT, settings)


@asynccontextmanager
async def open_model(
    task: RegionTask, settings: ProviderSettings, meter: UsageMeter
) -> AsyncIterator[Model]:
    """The region's model, metered; its HTTP client is closed on the way out."""
    endpoint = endpoint_of(task.spec)
    client = _client(endpoint, settings)
    bucket = (
        SharedBucket(settings.limits)
        if settings.limits is not None and settings.limits.active
        else None
    )
    try:
        yield MeteredModel(
            _inner_model(endpoint, settings, client, task.simulate_latency),
            meter,
            RetrySettings(max_retries=settings.http_retries),
            bucket,
            label=task.spec.region,
        )
    finally:
        if client is not None:
            await client.close()


def _first_mode(spec: RegionSpec) -> str:
    if spec.structured_output != "auto":
        return spec.structured_output
    return TEXT if _server(spec) in _refused_schema else JSON_SCHEMA


def _server(spec: RegionSpec) -> tuple[str, str | None, str | None]:
    return (spec.model, spec.api, spec.base_url)


async def _run(
    spec: RegionSpec, model: Model, mode: str, settings: ProviderSettings
) -> LeadListOutput:
    agent = build_agent(
        spec,
        model,
        output_mode=mode,
        search_key=settings.credentials.search_key,
        extra_args=_litellm_args(spec, settings),
    )
    run_config = RunConfig(tracing_disabled=not settings.trace_export)
    result = await Runner.run(
        agent, region_input(spec), max_turns=spec.max_turns, run_config=run_config
    )
    if mode == JSON_SCHEMA:
        return result.final_output_as(LeadListOutput, raise_if_incorrect_type=True)
    return await _parse_or_repair(spec, agent, str(result.final_output), run_config)


async def _parse_or_repair(
    spec: RegionSpec, agent: Agent[None], reply: str, run_config: RunConfig
) -> LeadListOutput:
    """Parse a JSON-text reply; on failure ask once for a corrected one."""
    try:
        return parse_answer(reply)
    except AgentOutputError as error:
        logger.bind(region=spec.region).warning(
            f"reply is not a valid lead list; asking once for a corrected one  "
            f"{logs.fields(region=spec.region, problem=repr(str(error)[:200]))}"
        )
        problem = error

    # The repair turn sees the task, the bad reply and what is wrong with it,
    # without tools: one request, no new searching.
    conversation: list[Any] = [
        {"role": "user", "content": region_input(spec)},
        {"role": "assistant", "content": reply},
        {"role": "user", "content": repair_request(problem)},
    ]
    result = await Runner.run(
        agent.clone(tools=[]), conversation, max_turns=1, run_config=run_config
    )
    try:
        return parse_answer(str(result.final_output))
    except AgentOutputError as again:
        raise AgentOutputError(
            f"still invalid after one repair turn: {again}"
        ) from None


def _client(endpoint: Endpoint, settings: ProviderSettings) -> AsyncOpenAI | None:
    if endpoint.provider in (OFFLINE, LITELLM):
        return None
    # Retries happen in MeteredModel only; the explicit base URL keeps an
    # OPENAI_BASE_URL in the worker's environment from redirecting requests.
    return AsyncOpenAI(
        api_key=settings.credentials.api_key or NO_KEY,
        base_url=endpoint.base_url or OPENAI_URL,
        max_retries=0,
        timeout=settings.request_timeout,
    )


def _inner_model(
    endpoint: Endpoint,
    settings: ProviderSettings,
    client: AsyncOpenAI | None,
    latency: float,
) -> Model:
    if endpoint.provider == OFFLINE:
        return OfflineModel(latency=latency)
    if endpoint.provider == LITELLM:
        return _litellm_model(endpoint, settings)
    assert client is not None
    # Model objects, not names: a name with a '/' would be read as a prefix.
    if endpoint.api == RESPONSES:
        return OpenAIResponsesModel(endpoint.model, client)
    return OpenAIChatCompletionsModel(endpoint.model, client)


def _litellm_model(endpoint: Endpoint, settings: ProviderSettings) -> Model:
    # LiteLLM downloads its model price list when imported unless told to use
    # the copy it ships; leadgen prices usage itself and runs offline in tests.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        from agents.extensions.models.litellm_model import LitellmModel
    except ImportError:
        raise ProviderError(
            f"model {endpoint.model!r} needs LiteLLM: pip install 'leadgen[litellm]'"
        ) from None
    # A keyless server behind base_url still needs some key, or LiteLLM's
    # OpenAI route refuses to send the request at all.
    key = settings.credentials.api_key or (NO_KEY if endpoint.base_url else None)
    return LitellmModel(model=endpoint.model, base_url=endpoint.base_url, api_key=key)


def _litellm_args(spec: RegionSpec, settings: ProviderSettings) -> dict[str, Any]:
    # LiteLLM has its own timeout and retries; retries stay in MeteredModel.
    if endpoint_of(spec).provider != LITELLM:
        return {}
    return {"timeout": settings.request_timeout, "num_retries": 0}


def _configure_tracing(settings: ProviderSettings) -> None:
    """Tracing only for OpenAI's own endpoint, and only when asked for.

    The exporter sends the key it is given to OpenAI; it gets the OpenAI key
    and nothing else, so a third party's key never leaves for OpenAI.
    """
    set_tracing_disabled(not settings.trace_export)
    if settings.trace_export and settings.credentials.api_key:
        set_tracing_export_api_key(settings.credentials.api_key)
