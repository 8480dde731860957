"""Cache keys: stable for the same inputs, different when an answer could change."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leadgen.config import load_config
from leadgen.spec import cache_key, region_specs, resolve_model

from .conftest import small_config


def _keys(write_config: Callable[..., Path], config: dict[str, Any]) -> list[str]:
    loaded = load_config(write_config(config, name="k.yaml"))
    return [cache_key(spec) for spec in region_specs(loaded.batch, "offline")]


def _changed(path: str, value: Any) -> dict[str, Any]:
    config = copy.deepcopy(small_config())
    node: Any = config
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    node[parts[-1]] = value
    return config


def test_key_is_stable_across_processes(write_config: Callable[..., Path]) -> None:
    path = write_config(small_config(), name="k.yaml")
    code = (
        "from leadgen.config import load_config;"
        "from leadgen.spec import cache_key, region_specs;"
        f"b = load_config({str(path)!r}).batch;"
        "print(cache_key(region_specs(b, 'offline')[0]))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert other == _keys(write_config, small_config())[0]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("target.description", "HOA managers", id="description"),
        pytest.param("target.criteria", {"min_units": 100}, id="criteria"),
        pytest.param("target.companies_per_region", 3, id="companies-per-region"),
        pytest.param("agent.max_turns", 9, id="max-turns"),
        pytest.param("agent.temperature", 0.2, id="temperature"),
        pytest.param("geography.metro", "Aurora", id="metro"),
    ],
)
def test_answer_inputs_change_every_key(
    write_config: Callable[..., Path], path: str, value: Any
) -> None:
    before = _keys(write_config, small_config())
    after = _keys(write_config, _changed(path, value))

    assert all(b != a for b, a in zip(before, after, strict=True))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("run.workers", 1, id="workers"),
        pytest.param("run.retries", 5, id="retries"),
        pytest.param("run.min_success_share", 0.1, id="success-share"),
        pytest.param("agent.timeout_seconds", 5, id="timeout"),
        pytest.param("name", "other", id="run-name"),
    ],
)
def test_timing_knobs_keep_keys(
    write_config: Callable[..., Path], path: str, value: Any
) -> None:
    assert _keys(write_config, small_config()) == _keys(
        write_config, _changed(path, value)
    )


def test_region_change_touches_only_that_region(
    write_config: Callable[..., Path],
) -> None:
    before = _keys(write_config, small_config())
    after = _keys(write_config, _changed("geography.regions.1.areas", ["RiNo"]))

    assert [b == a for b, a in zip(before, after, strict=True)] == [True, False, True]


def test_model_is_part_of_the_key(write_config: Callable[..., Path]) -> None:
    loaded = load_config(write_config(small_config(), name="k.yaml"))
    offline = region_specs(loaded.batch, "offline")[0]
    real = region_specs(loaded.batch, "gpt-5-mini")[0]

    assert cache_key(offline) != cache_key(real)


@pytest.mark.parametrize(
    ("model", "env", "expected"),
    [
        pytest.param("auto", {}, "offline", id="auto-no-key"),
        pytest.param(
            "auto", {"OPENAI_API_KEY": "sk-test"}, "gpt-5-mini", id="auto-key"
        ),
        pytest.param("offline", {"OPENAI_API_KEY": "sk-test"}, "offline", id="offline"),
        pytest.param("gpt-5", {}, "gpt-5", id="named"),
    ],
)
def test_resolve_model(model: str, env: dict[str, str], expected: str) -> None:
    assert resolve_model(model, env) == expected
