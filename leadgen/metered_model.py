"""A model wrapper that counts, paces and retries every request of a region.

The SDK's ``Runner`` calls ``MeteredModel`` exactly as it calls any model.
Before each request it waits for the run's shared rate limits; it counts the
request and, when an answer arrives, its tokens and web searches; when the
request fails with a transient error it waits and sends it again. All of
that happens in one place for every provider (OpenAI, compatible servers,
LiteLLM and the offline model), and it sees failed requests that the SDK's
own usage never records.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from agents import (
    AgentOutputSchemaBase,
    Handoff,
    Model,
    ModelResponse,
    ModelSettings,
    ModelTracing,
    Tool,
    TResponseInputItem,
)
from agents.items import TResponseStreamEvent
from loguru import logger
from openai.types.responses.response_prompt_param import ResponsePromptParam

from leadgen import logs
from leadgen.ratelimit import SharedBucket
from leadgen.retries import RetrySettings, retry_delay
from leadgen.usage import UsageMeter

CHARS_PER_TOKEN = 4
REPLY_TOKEN_ALLOWANCE = 1_000


class MeteredModel(Model):
    """Counts, rate-limits and retries the requests of an inner model.

    Args:
        inner: The model that really answers.
        meter: Where this region's usage is added up.
        retry: The retry budget for one request.
        bucket: The run's shared rate limits, or None when unlimited.
        label: The region's name, for log lines.
    """

    def __init__(
        self,
        inner: Model,
        meter: UsageMeter,
        retry: RetrySettings,
        bucket: SharedBucket | None = None,
        label: str = "",
    ) -> None:
        self.inner = inner
        self.meter = meter
        self.retry = retry
        self.bucket = bucket
        self.label = label

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
        estimate = estimate_tokens(system_instructions, input)
        attempt = 0
        while True:
            attempt += 1
            if self.bucket is not None:
                await self.bucket.acquire(estimate)
            self.meter.count_request()
            try:
                response = await self.inner.get_response(
                    system_instructions,
                    input,
                    model_settings,
                    tools,
                    output_schema,
                    handoffs,
                    tracing,
                    previous_response_id=previous_response_id,
                    conversation_id=conversation_id,
                    prompt=prompt,
                )
            except Exception as exc:
                self._settle(estimate, 0)
                delay = retry_delay(exc, attempt, self.retry)
                if delay is None:
                    raise
                self._log_retry(exc, attempt, delay)
                await asyncio.sleep(delay)
                continue

            self.meter.add_response(response.usage, response.output)
            self._settle(estimate, int(response.usage.total_tokens or 0))
            return response

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
        raise NotImplementedError("region agents do not stream")

    async def close(self) -> None:
        await self.inner.close()

    def _settle(self, estimate: int, actual: int) -> None:
        if self.bucket is not None:
            self.bucket.settle(estimate, actual)

    def _log_retry(self, exc: Exception, attempt: int, delay: float) -> None:
        status = getattr(exc, "status_code", None)
        line = logs.fields(
            region=self.label,
            attempt=attempt,
            error=type(exc).__name__,
            status=status if status is not None else "-",
            wait=f"{delay:.2f}s",
        )
        logger.bind(region=self.label).warning(f"model request will retry  {line}")


def estimate_tokens(
    system_instructions: str | None, input: str | list[TResponseInputItem]
) -> int:
    """A rough token count of a request, for the rate limit before it is sent.

    About four characters a token for the prompt, plus an allowance for the
    reply; the real count is charged once the answer arrives.
    """
    text = input if isinstance(input, str) else json.dumps(input, default=str)
    chars = len(system_instructions or "") + len(text)
    return chars // CHARS_PER_TOKEN + REPLY_TOKEN_ALLOWANCE
