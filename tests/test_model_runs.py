"""Batches against a local OpenAI-compatible server: real pool, SDK and HTTP.

The region agents talk to ``FakeOpenAI`` over HTTP through the real openai
client and the real SDK, with the Responses API (hosted web search) or chat
completions (leadgen's own ``web_search`` and ``fetch_page``, which the
test workers point at the same server). Nothing leaves the machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from leadgen.checkpoint import read_checkpoint
from leadgen.cli import run_command
from leadgen.config import load_config
from leadgen.runner import RunOptions, RunSummary, run_batch

from .conftest import small_config
from .fake_openai import USAGE, FakeOpenAI, region_companies, web_pool

FAKE_KEY = "sk-test-leadgen-4f9c2a7e51"
PRICE = {"input": 1.0, "cached_input": 0.5, "output": 2.0, "search_per_1k": 10.0}
APIS = [
    pytest.param("responses", id="responses"),
    pytest.param("chat_completions", id="chat-completions"),
]
# Model requests of one region: Responses API (search, answer) and chat
# completions (web_search call, fetch_page call, answer).
REQUESTS = {"responses": 2, "chat_completions": 3}


def _agent(server: FakeOpenAI, api: str, **more: Any) -> dict[str, Any]:
    return {
        "model": "fake-model",
        "base_url": server.base_url,
        "api": api,
        "max_turns": 6,
        "timeout_seconds": 30,
        "request_timeout_seconds": 10,
        "prices": {"fake-model": PRICE},
        **more,
    }


def _run(
    write_config: Callable[..., Path],
    tmp_path: Path,
    server: FakeOpenAI,
    config: dict[str, Any],
    **options: Any,
) -> RunSummary:
    run_dir = tmp_path / "run"
    factory = web_pool(server, run_dir / "leadgen.log")
    loaded = load_config(write_config(config))
    return run_batch(
        loaded, RunOptions(run_dir=run_dir, executor_factory=factory, **options)
    )


def _records(run_dir: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((run_dir / "run.json").read_text())
    return {record["region"]: record for record in manifest["regions"]}


def _expected_usage(requests: int, answered: int) -> dict[str, Any]:
    """Usage of ``requests`` requests of which ``answered`` returned tokens."""
    input_tokens = answered * USAGE["input"]
    cached = answered * USAGE["cached"]
    output = answered * USAGE["output"]
    cost = (
        (input_tokens - cached) * PRICE["input"]
        + cached * PRICE["cached_input"]
        + output * PRICE["output"]
    ) / 1e6 + PRICE["search_per_1k"] / 1000
    return {
        "requests": requests,
        "input_tokens": input_tokens,
        "cached_tokens": cached,
        "output_tokens": output,
        "reasoning_tokens": answered * USAGE["reasoning"],
        "total_tokens": input_tokens + output,
        "search_calls": 1,
        "cost_usd": pytest.approx(cost),
    }


@pytest.mark.parametrize("api", APIS)
def test_batch_completes_with_usage_and_cost(
    write_config: Callable[..., Path], tmp_path: Path, api: str
) -> None:
    with FakeOpenAI() as server:
        summary = _run(
            write_config, tmp_path, server, small_config(agent=_agent(server, api))
        )

    assert summary.exit_code == 0
    records = _records(tmp_path / "run")
    for region in ("Downtown", "North Side", "South Side"):
        slug = region.lower().replace(" ", "-")
        checkpoint = read_checkpoint(tmp_path / "run" / "checkpoints" / f"{slug}.json")
        assert [c.name for c in checkpoint.companies] == [
            c["name"] for c in region_companies(region)
        ]
        expected = _expected_usage(REQUESTS[api], REQUESTS[api])
        assert checkpoint.usage.model_dump() == expected
        assert records[region]["usage"] == expected


def test_hosted_search_is_located_in_the_metro(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    with FakeOpenAI() as server:
        config = small_config(agent=_agent(server, "responses"))
        _run(write_config, tmp_path, server, config, only=("Downtown",))

    first = server.model_requests("Downtown")[0].body
    assert first["tools"][0]["type"] == "web_search"
    assert first["tools"][0]["user_location"] == {
        "type": "approximate",
        "city": "Denver",
        "region": "CO",
        "country": "US",
    }
    assert first["text"]["format"]["type"] == "json_schema"


@pytest.mark.parametrize("api", APIS)
def test_transient_errors_are_retried(
    write_config: Callable[..., Path], tmp_path: Path, api: str
) -> None:
    faults = {
        "Downtown": ["429", "500"],
        "North Side": ["slow"],
        "South Side": ["malformed"],
    }
    with FakeOpenAI(faults=faults, slow_seconds=3) as server:
        config = small_config(agent=_agent(server, api, request_timeout_seconds=1.5))
        config["run"] = {"workers": 3, "retries": 1}
        summary = _run(write_config, tmp_path, server, config)

    assert {r.region: r.status for r in summary.records} == dict.fromkeys(
        ("Downtown", "North Side", "South Side"), "done"
    )
    downtown = server.model_requests("Downtown")
    assert [r.answer for r in downtown[:2]] == ["429", "500"]
    assert downtown[1].at - downtown[0].at >= 0.9, "Retry-After: 1 was not honoured"

    records = _records(tmp_path / "run")
    n = REQUESTS[api]
    assert records["Downtown"]["usage"]["requests"] == n + 2
    assert records["North Side"]["usage"]["requests"] == n + 1
    # The malformed answer failed the first attempt; the manifest sums both.
    assert records["South Side"]["attempts"] == 2
    assert records["South Side"]["usage"] == _expected_usage(n + 1, n)
    log = (tmp_path / "run" / "leadgen.log").read_text()
    assert "model request will retry  region=Downtown attempt=1" in log
    assert "status=429" in log


def test_failed_regions_carry_their_reason(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    faults = {"Downtown": ["500", "500"], "South Side": ["malformed"]}
    with FakeOpenAI(faults=faults) as server:
        config = small_config(agent=_agent(server, "chat_completions", http_retries=1))
        config["run"] = {"workers": 3, "retries": 0, "min_success_share": 0.3}
        summary = _run(write_config, tmp_path, server, config)

    by_region = {r.region: r for r in summary.records}
    assert by_region["North Side"].status == "done"
    assert by_region["Downtown"].status == "failed"
    assert by_region["Downtown"].error_type == "InternalServerError"
    assert by_region["Downtown"].usage["requests"] == 2
    assert by_region["South Side"].status == "failed"
    assert by_region["South Side"].error_type
    assert by_region["South Side"].error


@pytest.mark.parametrize("api", APIS)
def test_refused_json_schema_falls_back_to_json_text(
    write_config: Callable[..., Path], tmp_path: Path, api: str
) -> None:
    with FakeOpenAI(reject_json_schema=True, faults={"North Side": ["bad-answer"]}) as (
        server
    ):
        config = small_config(agent=_agent(server, api))
        config["run"] = {"workers": 1, "retries": 0}
        summary = _run(write_config, tmp_path, server, config)

    assert summary.exit_code == 0
    assert [r.companies for r in summary.records] == [2, 2, 2]
    answers = [r.answer for r in server.model_requests()]
    # One refusal: the worker remembers it for the regions that follow.
    assert answers.count("400") == 1
    north = [r.answer for r in server.model_requests("North Side")]
    assert north[-2:] == ["bad-answer", "answer"]  # the one repair turn
    repair = server.model_requests("North Side")[-1].body
    assert "search_exhausted: Field required" in json.dumps(repair)


def test_answer_still_invalid_after_repair_fails_the_region(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    faults = {"Downtown": ["bad-answer", "bad-answer"]}
    with FakeOpenAI(reject_json_schema=True, faults=faults) as server:
        config = small_config(agent=_agent(server, "chat_completions"))
        config["run"] = {"workers": 1, "retries": 0}
        summary = _run(write_config, tmp_path, server, config, only=("Downtown",))

    record = summary.records[0]
    assert record.status == "failed"
    assert record.error_type == "AgentOutputError"
    assert "still invalid after one repair turn" in (record.error or "")
    assert not (tmp_path / "run" / "checkpoints" / "downtown.json").exists()


def test_region_timeout_cancels_the_request(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    with FakeOpenAI(faults={"Downtown": ["stall"]}) as server:
        agent = _agent(
            server, "chat_completions", timeout_seconds=2, request_timeout_seconds=60
        )
        config = small_config(agent=agent)
        config["run"] = {"workers": 1, "retries": 0}
        summary = _run(write_config, tmp_path, server, config, only=("Downtown",))

        hung_up = server.disconnects.wait(5)

    record = summary.records[0]
    assert record.status == "timeout"
    assert record.error == "no answer within 2 s"
    assert record.usage["requests"] == 1
    assert hung_up, "the stalled HTTP request was not cancelled"


def test_rate_limit_holds_across_workers(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    # Start with an empty bucket (its last update in the future) so that the
    # limit of one request per 0.5 s shows from the first request on.
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    empty = {"requests": 0.0, "tokens": 0.0, "updated": time.time() + 60}
    (run_dir / "ratelimit.json").write_text(json.dumps(empty))

    with FakeOpenAI() as server:
        agent = _agent(server, "chat_completions", requests_per_minute=120)
        config = small_config(agent=agent)
        config["run"] = {"workers": 2, "retries": 0}
        summary = _run(
            write_config, tmp_path, server, config, only=("Downtown", "North Side")
        )

    assert [r.status for r in summary.records] == ["done", "done"]
    # A worker's first request also carries its start-up time, so only the
    # later ones show the spacing; unlimited they follow each other at once.
    later = sorted(
        request.at
        for region in ("Downtown", "North Side")
        for request in server.model_requests(region)[1:]
    )
    gaps = [b - a for a, b in zip(later, later[1:], strict=False)]
    assert len(later) == 4
    assert min(gaps) >= 0.3, f"two workers sent requests too close together: {gaps}"


def test_key_is_used_but_never_written(
    write_config: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    with FakeOpenAI(api_key=FAKE_KEY, faults={"South Side": ["echo-key"]}) as server:
        config = small_config(agent=_agent(server, "responses"))
        config["run"] = {"workers": 2, "retries": 0, "min_success_share": 0.5}
        path = write_config(config)
        run_dir, db = tmp_path / "run", tmp_path / "leads.duckdb"
        result = CliRunner().invoke(
            run_command, [str(path), "--run-dir", str(run_dir), "--db", str(db), "-v"]
        )

    assert result.exit_code == 0, result.output
    assert {r.authorization for r in server.model_requests()} == {f"Bearer {FAKE_KEY}"}
    south = _records(run_dir)["South Side"]
    assert south["status"] == "failed"
    assert "Incorrect API key provided: [key]" in south["error"]

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert db in written and run_dir / "leadgen.log" in written
    assert any(p.parent.name == "checkpoints" for p in written)
    for file in written:
        assert FAKE_KEY.encode() not in file.read_bytes(), f"key found in {file}"
    assert FAKE_KEY not in result.output


def test_litellm_model_strings_run_through_litellm(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    with FakeOpenAI() as server:
        agent = _agent(server, "chat_completions")
        agent["model"] = "litellm/openai/fake-model"
        agent["prices"] = {"litellm/openai/fake-model": PRICE}
        del agent["api"]
        summary = _run(
            write_config,
            tmp_path,
            server,
            small_config(agent=agent),
            only=("Downtown",),
        )
        paths = {request.path for request in server.model_requests("Downtown")}

    assert [r.status for r in summary.records] == ["done"], summary.records[0].error
    assert paths == {"/v1/chat/completions"}
    checkpoint = read_checkpoint(tmp_path / "run" / "checkpoints" / "downtown.json")
    assert [c.name for c in checkpoint.companies] == [
        c["name"] for c in region_companies("Downtown")
    ]
    assert checkpoint.usage.requests >= 2
    assert checkpoint.usage.cost_usd is not None
