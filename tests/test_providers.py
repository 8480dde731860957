"""Choosing the provider, its tools and answer format; preflight before workers."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from leadgen.cli import run_command
from leadgen.config import AgentSettings, load_config
from leadgen.errors import ProviderError
from leadgen.offline_model import OfflineModel
from leadgen.plan import plan_run
from leadgen.prompts import region_instructions, tool_names
from leadgen.providers import Endpoint, preflight, resolve_endpoint
from leadgen.region_agent import build_agent, region_tools
from leadgen.schema import LeadListOutput
from leadgen.spec import RegionSpec, cache_key, region_specs

from .conftest import small_config
from .fake_openai import FakeOpenAI

LOCAL = "http://127.0.0.1:8000/v1"


@pytest.mark.parametrize(
    ("settings", "model", "environ", "expected"),
    [
        pytest.param(
            {},
            "gpt-5-mini",
            {},
            Endpoint("openai", "gpt-5-mini", "responses"),
            id="openai",
        ),
        pytest.param(
            {},
            "openai/gpt-5-mini",
            {},
            Endpoint("openai", "gpt-5-mini", "responses"),
            id="openai-prefix",
        ),
        pytest.param(
            {"api": "chat_completions"},
            "gpt-4.1-mini",
            {},
            Endpoint("openai", "gpt-4.1-mini", "chat_completions"),
            id="openai-chat",
        ),
        pytest.param(
            {"model": "meta-llama/Llama-3.1-8B", "base_url": LOCAL + "/"},
            "meta-llama/Llama-3.1-8B",
            {},
            Endpoint(
                "compatible", "meta-llama/Llama-3.1-8B", "chat_completions", LOCAL
            ),
            id="base-url-slash-model",
        ),
        pytest.param(
            {"model": "qwen3"},
            "qwen3",
            {"OPENAI_BASE_URL": LOCAL},
            Endpoint("compatible", "qwen3", "chat_completions", LOCAL),
            id="base-url-from-env",
        ),
        pytest.param(
            {"model": "gpt-5-mini", "base_url": LOCAL, "api": "responses"},
            "gpt-5-mini",
            {},
            Endpoint("compatible", "gpt-5-mini", "responses", LOCAL),
            id="responses-elsewhere",
        ),
        pytest.param(
            {},
            "litellm/anthropic/claude-sonnet-4",
            {"OPENAI_BASE_URL": LOCAL},
            Endpoint("litellm", "anthropic/claude-sonnet-4"),
            id="litellm",
        ),
        pytest.param(
            {"base_url": LOCAL},
            "offline",
            {},
            Endpoint("offline", "offline"),
            id="offline",
        ),
    ],
)
def test_endpoint_resolution(
    settings: dict[str, Any], model: str, environ: dict[str, str], expected: Endpoint
) -> None:
    agent = AgentSettings.model_validate(settings)

    assert resolve_endpoint(agent, model, environ) == expected


@pytest.mark.parametrize(
    ("settings", "model", "environ", "message"),
    [
        pytest.param(
            {}, "mystery/model-1", {}, "unknown provider prefix 'mystery'", id="prefix"
        ),
        pytest.param(
            {"model": "auto", "base_url": LOCAL},
            "gpt-5-mini",
            {},
            "'auto' cannot be used with the server",
            id="auto-with-server",
        ),
        pytest.param(
            {},
            "gpt-5-mini",
            {"OPENAI_BASE_URL": "ftp://x"},
            "OPENAI_BASE_URL",
            id="env",
        ),
    ],
)
def test_endpoint_errors(
    settings: dict[str, Any], model: str, environ: dict[str, str], message: str
) -> None:
    agent = AgentSettings.model_validate(settings)

    with pytest.raises(ProviderError, match=message):
        resolve_endpoint(agent, model, environ)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("localhost:8000/v1", id="no-scheme"),
        pytest.param("https://user:secret@llm.example/v1", id="credentials"),
    ],
)
def test_config_refuses_bad_base_urls(
    write_config: Callable[..., Path], url: str
) -> None:
    path = write_config(small_config(agent={"model": "m", "base_url": url}))

    with pytest.raises(Exception, match="agent.base_url") as caught:
        load_config(path)

    assert "secret" not in str(caught.value)


def _spec(
    write_config: Callable[..., Path], agent: dict[str, Any], model: str
) -> RegionSpec:
    loaded = load_config(write_config(small_config(agent=agent), name="p.yaml"))
    return region_specs(loaded.batch, model, environ={})[0]


@pytest.mark.parametrize(
    ("agent", "model", "tools"),
    [
        pytest.param(
            {"model": "offline"}, "offline", ["search_directory"], id="offline"
        ),
        pytest.param(
            {"model": "gpt-5-mini"}, "gpt-5-mini", ["web_search"], id="hosted"
        ),
        pytest.param(
            {"model": "m", "base_url": LOCAL},
            "m",
            ["web_search", "fetch_page"],
            id="chat",
        ),
        pytest.param(
            {"model": "litellm/x/y"},
            "litellm/x/y",
            ["web_search", "fetch_page"],
            id="litellm",
        ),
    ],
)
def test_tools_follow_the_provider(
    write_config: Callable[..., Path],
    agent: dict[str, Any],
    model: str,
    tools: list[str],
) -> None:
    spec = _spec(write_config, agent, model)

    assert tool_names(spec) == tools
    assert [tool.name for tool in region_tools(spec)] == tools
    if "fetch_page" in tools:
        assert "fetch_page to read a list" in region_instructions(spec)


def test_endpoints_never_share_checkpoints(write_config: Callable[..., Path]) -> None:
    keys = {
        cache_key(_spec(write_config, agent, "m"))
        for agent in (
            {"model": "m", "base_url": LOCAL},
            {"model": "m", "base_url": "http://10.0.0.5:8000/v1"},
            {"model": "m", "base_url": LOCAL, "api": "responses"},
            {"model": "m", "base_url": LOCAL, "structured_output": "text"},
        )
    }

    assert len(keys) == 4


def test_limits_prices_and_timeouts_leave_the_key_alone(
    write_config: Callable[..., Path],
) -> None:
    plain = {"model": "m", "base_url": LOCAL}
    tuned = {
        **plain,
        "request_timeout_seconds": 5,
        "http_retries": 0,
        "requests_per_minute": 10,
        "tokens_per_minute": 1000,
        "prices": {"m": {"input": 1, "output": 2}},
    }

    assert cache_key(_spec(write_config, plain, "m")) == cache_key(
        _spec(write_config, tuned, "m")
    )


@pytest.mark.parametrize(
    ("agent", "mode", "extra_args"),
    [
        pytest.param({"base_url": LOCAL}, "json_schema", None, id="schema"),
        pytest.param(
            {"base_url": LOCAL},
            "json_object",
            {"response_format": {"type": "json_object"}},
            id="object-chat",
        ),
        pytest.param(
            {"base_url": LOCAL, "api": "responses"},
            "json_object",
            {"text": {"format": {"type": "json_object"}}},
            id="object-responses",
        ),
        pytest.param({"base_url": LOCAL}, "text", None, id="text"),
    ],
)
def test_answer_format_follows_the_mode(
    write_config: Callable[..., Path],
    agent: dict[str, Any],
    mode: str,
    extra_args: dict[str, Any] | None,
) -> None:
    spec = _spec(write_config, {"model": "m", **agent}, "m")

    built = build_agent(spec, OfflineModel(), output_mode=mode)

    assert built.model_settings.extra_args == extra_args
    if mode == "json_schema":
        assert built.output_type is LeadListOutput
        assert "JSON schema" not in str(built.instructions)
    else:
        assert built.output_type is None
        assert '"search_exhausted"' in str(built.instructions)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("agent", "environ", "message"),
    [
        pytest.param(
            {"model": "gpt-5-mini"},
            {},
            "needs an API key: set OPENAI_API_KEY",
            id="no-key",
        ),
        pytest.param(
            {"model": "m", "base_url": "http://127.0.0.1:{closed}/v1"},
            {},
            "cannot reach the server",
            id="unreachable",
        ),
        pytest.param(
            {"model": "m", "base_url": "{fake}", "api_key_env": "LOCAL_LLM_KEY"},
            {},
            "needs an API key: set LOCAL_LLM_KEY",
            id="named-key-missing",
        ),
        pytest.param(
            {"model": "m", "base_url": "{fake}"},
            {"OPENAI_API_KEY": "sk-test-wrong"},
            "refused the API key (HTTP 401)",
            id="key-refused",
        ),
        pytest.param(
            {"model": "mystery/model-1"}, {}, "unknown provider prefix", id="prefix"
        ),
        pytest.param(
            {"model": "litellm/anthropic/claude-sonnet-4"},
            {},
            "pip install 'leadgen[litellm]'",
            id="no-litellm",
        ),
    ],
)
def test_preflight_errors_are_one_line_with_exit_code_2(
    write_config: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    agent: dict[str, Any],
    environ: dict[str, str],
    message: str,
) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)  # as if the extra were missing
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    with FakeOpenAI(api_key="sk-test-right") as server:
        base_url = str(agent.get("base_url", ""))
        agent = {
            **agent,
            **(
                {
                    "base_url": base_url.format(
                        closed=_closed_port(), fake=server.base_url
                    )
                }
                if base_url
                else {}
            ),
        }
        path = write_config(small_config(agent=agent))
        result = CliRunner().invoke(
            run_command, [str(path), "--run-dir", str(tmp_path / "run")]
        )

        assert server.model_requests() == []

    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert result.stderr.strip().splitlines()[-1] == errors[0]  # nothing follows
    assert message in errors[0]
    assert "region started" not in result.stderr
    assert not list((tmp_path / "run").glob("checkpoints/*.json"))


def test_tracing_is_exported_only_for_openai_itself(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    with FakeOpenAI() as server:
        openai_plan = plan_run(
            load_config(
                write_config(
                    small_config(agent={"model": "gpt-5-mini", "tracing": True})
                )
            ),
            tmp_path / "a",
        )
        other_plan = plan_run(
            load_config(
                write_config(
                    small_config(
                        agent={
                            "model": "m",
                            "base_url": server.base_url,
                            "tracing": True,
                        }
                    ),
                    name="other.yaml",
                )
            ),
            tmp_path / "b",
        )

        openai_settings = preflight(openai_plan, {"OPENAI_API_KEY": "sk-test-1"})
        other_settings = preflight(other_plan, {"OPENAI_API_KEY": "sk-test-2"})

    assert openai_settings.trace_export is True
    assert other_settings.trace_export is False
    assert "sk-test" not in repr(other_settings)
