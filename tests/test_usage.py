"""Usage, cost, retry delays and the shared rate limit, without a model."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from types import SimpleNamespace

import httpx2
import openai
import pytest

from leadgen.config import ModelPrice
from leadgen.pricing import FREE, Price, cost_usd, price_for
from leadgen.ratelimit import RateLimits, SharedBucket
from leadgen.retries import (
    RetrySettings,
    is_retryable,
    retry_after_seconds,
    retry_delay,
)
from leadgen.usage import UsageMeter, add_usage

from .conftest import REPO


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        pytest.param("gpt-5-mini", Price(0.25, 0.025, 2.0, 10.0), id="known"),
        pytest.param("openai/gpt-5-mini", Price(0.25, 0.025, 2.0, 10.0), id="prefix"),
        pytest.param(
            "gpt-5-mini-2025-08-07", Price(0.25, 0.025, 2.0, 10.0), id="snapshot"
        ),
        pytest.param("gpt-4o-mini", Price(0.15, 0.075, 0.6, 25.0), id="longest-name"),
        pytest.param("offline", FREE, id="offline"),
        pytest.param("meta-llama/Llama-3.1-8B", None, id="unknown"),
    ],
)
def test_default_prices(model: str, expected: Price | None) -> None:
    assert price_for(model) == expected


def test_config_price_overrides_the_table() -> None:
    overrides = {"gpt-5-mini": ModelPrice(input=1.0, output=3.0)}

    assert price_for("openai/gpt-5-mini", overrides) == Price(1.0, 1.0, 3.0, 0.0)


def test_cost_counts_cached_tokens_and_searches() -> None:
    usage = {
        "input_tokens": 1_000_000,
        "cached_tokens": 400_000,
        "output_tokens": 100_000,
        "search_calls": 3,
    }

    cost = cost_usd(
        usage, Price(input=2.0, cached_input=0.5, output=8.0, search_per_1k=10)
    )

    assert cost == pytest.approx(0.6 * 2.0 + 0.4 * 0.5 + 0.1 * 8.0 + 0.03)
    assert cost_usd(usage, None) is None


def test_meter_counts_tokens_searches_and_requests() -> None:
    meter = UsageMeter()
    usage = SimpleNamespace(
        input_tokens=100,
        output_tokens=20,
        total_tokens=120,
        input_tokens_details=SimpleNamespace(cached_tokens=40),
        output_tokens_details={"reasoning_tokens": 5},
    )
    output = [
        SimpleNamespace(type="web_search_call"),
        {"type": "function_call", "name": "web_search"},
        {"type": "function_call", "name": "fetch_page"},
        SimpleNamespace(type="message"),
    ]

    meter.count_request()
    meter.count_request()
    meter.add_response(usage, output)

    assert meter.as_dict(None) == {
        "requests": 2,
        "input_tokens": 100,
        "cached_tokens": 40,
        "output_tokens": 20,
        "reasoning_tokens": 5,
        "total_tokens": 120,
        "search_calls": 2,
        "cost_usd": None,
    }


def test_usage_of_attempts_adds_up() -> None:
    first = {"requests": 1, "total_tokens": 0, "cost_usd": None}
    second = {"requests": 3, "total_tokens": 900, "cost_usd": 0.25}

    assert add_usage(add_usage({}, first), second) == {
        "requests": 4,
        "total_tokens": 900,
        "cost_usd": 0.25,
    }


def _status_error(
    status: int, headers: dict[str, str], code: str | None = None
) -> Exception:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/responses")
    response = httpx2.Response(status, headers=headers, request=request)
    body = {"message": "x", "code": code}  # the client passes the inner error
    error = openai.APIStatusError("x", response=response, body=body)
    error.status_code = status
    return error


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        pytest.param(_status_error(429, {}), True, id="429"),
        pytest.param(_status_error(500, {}), True, id="500"),
        pytest.param(_status_error(503, {}), True, id="503"),
        pytest.param(_status_error(408, {}), True, id="408"),
        pytest.param(_status_error(400, {}), False, id="400"),
        pytest.param(_status_error(401, {}), False, id="401"),
        pytest.param(_status_error(429, {}, "insufficient_quota"), False, id="quota"),
        pytest.param(
            openai.APITimeoutError(httpx2.Request("POST", "http://127.0.0.1/")),
            True,
            id="timeout",
        ),
        pytest.param(ValueError("bad"), False, id="other"),
    ],
)
def test_what_is_retried(error: Exception, retry: bool) -> None:
    assert is_retryable(error) is retry


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        pytest.param({"Retry-After": "7"}, 7.0, id="seconds"),
        pytest.param({"retry-after-ms": "250"}, 0.25, id="milliseconds"),
        pytest.param(
            {
                "Retry-After": format_datetime(
                    datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC)
                )
            },
            30.0,
            id="http-date",
        ),
        pytest.param({"Retry-After": "soon"}, None, id="unreadable"),
        pytest.param({"Retry-After": "-3"}, None, id="negative"),
        pytest.param({}, None, id="absent"),
    ],
)
def test_retry_after_header(headers: dict[str, str], seconds: float | None) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC).timestamp()

    assert retry_after_seconds(headers, now=lambda: now) == seconds


def test_retry_delay_honours_the_server_then_backs_off() -> None:
    settings = RetrySettings(max_retries=3, base_delay=0.5, max_delay=20)

    assert retry_delay(_status_error(429, {"Retry-After": "4"}), 1, settings) == 4.0
    assert retry_delay(_status_error(429, {"Retry-After": "90"}), 1, settings) == 20.0
    assert retry_delay(_status_error(500, {}), 3, settings, rand=lambda: 0.5) == 2.0
    assert retry_delay(_status_error(500, {}), 4, settings) is None
    assert retry_delay(_status_error(400, {}), 1, settings) is None


def test_bucket_spaces_requests_evenly(tmp_path: Path) -> None:
    now = [1000.0]
    limits = RateLimits(str(tmp_path / "bucket.json"), requests_per_minute=2)
    bucket = SharedBucket(limits, clock=lambda: now[0])

    assert bucket.try_take(10) == 0.0
    assert bucket.try_take(10) == pytest.approx(30.0)  # no burst: one per 30 s
    now[0] += 30.0
    assert bucket.try_take(10) == 0.0
    now[0] += 600.0  # a long pause does not save up a burst either
    assert bucket.try_take(10) == 0.0
    assert bucket.try_take(10) == pytest.approx(30.0)


def test_bucket_charges_the_real_token_count(tmp_path: Path) -> None:
    limits = RateLimits(str(tmp_path / "bucket.json"), tokens_per_minute=600)
    bucket = SharedBucket(limits, clock=lambda: 50.0)

    assert bucket.try_take(100) == 0.0
    bucket.settle(estimated=100, actual=500)  # 600 - 500 = 100 left

    assert bucket.try_take(100) == 0.0
    assert bucket.try_take(100) == pytest.approx(10.0)  # 100 tokens at 10 per second


def test_bucket_is_shared_between_processes(tmp_path: Path) -> None:
    state = tmp_path / "bucket.json"
    code = (
        "from leadgen.ratelimit import RateLimits, SharedBucket;"
        f"b = SharedBucket(RateLimits({str(state)!r}, requests_per_minute=1));"
        "print(b.try_take(1))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    assert other.stdout.strip() == "0.0"

    bucket = SharedBucket(RateLimits(str(state), requests_per_minute=1))

    assert bucket.try_take(1) > 30.0  # the other process took the only request
