"""Config validation: every malformed config is one clear line and exit 2."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from leadgen.cli import run_command
from leadgen.config import load_config
from leadgen.errors import ConfigError

from .conftest import small_config


def _set(path: str, value: Any) -> dict[str, Any]:
    """A small config with one dotted path replaced (``None`` value deletes)."""
    config = copy.deepcopy(small_config())
    node: Any = config
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if value is _DELETE:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return config


_DELETE = object()

BAD_CONFIGS: list[tuple[str, dict[str, Any] | str, str]] = [
    ("yaml-syntax", "target: [unclosed\n", "YAML syntax error"),
    ("yaml-tab-indent", "target:\n\tdescription: x\n", "YAML syntax error"),
    ("empty-file", "", "file is empty"),
    ("top-level-list", "- a\n- b\n", "file is a list"),
    ("unknown-top-key", {**small_config(), "regionz": []}, "regionz: unknown key"),
    ("unknown-nested-key", _set("agent.modle", "offline"), "agent.modle: unknown key"),
    ("missing-target", _set("target", _DELETE), "target: required field"),
    ("missing-geography", _set("geography", _DELETE), "geography: required field"),
    (
        "missing-description",
        _set("target.description", _DELETE),
        "target.description: required",
    ),
    ("blank-description", _set("target.description", "   "), "target.description"),
    ("workers-text", _set("run.workers", "four"), "run.workers"),
    ("workers-zero", _set("run.workers", 0), "run.workers"),
    ("workers-huge", _set("run.workers", 100000), "run.workers"),
    ("retries-negative", _set("run.retries", -1), "run.retries"),
    ("share-above-one", _set("run.min_success_share", 1.5), "run.min_success_share"),
    ("timeout-zero", _set("agent.timeout_seconds", 0), "agent.timeout_seconds"),
    ("max-turns-float", _set("agent.max_turns", 2.5), "agent.max_turns"),
    (
        "min-units-negative",
        _set("target.criteria.min_units", -5),
        "target.criteria.min_units",
    ),
    (
        "per-region-zero",
        _set("target.companies_per_region", 0),
        "target.companies_per_region",
    ),
    ("regions-empty", _set("geography.regions", []), "geography.regions"),
    ("regions-not-list", _set("geography.regions", "Denver"), "geography.regions"),
    (
        "region-blank-name",
        _set("geography.regions.1.name", ""),
        "geography.regions[1].name",
    ),
    (
        "region-no-ground",
        _set("geography.regions.0", {"name": "Nowhere"}),
        "needs at least one of 'areas' or 'zip_codes'",
    ),
    (
        "region-duplicate",
        _set("geography.regions.2.name", "north side"),
        "must be unique",
    ),
    (
        "zip-short",
        _set("geography.regions.0.zip_codes", ["802"]),
        "geography.regions[0].zip_codes[0]: expected a five-digit ZIP",
    ),
    ("zip-letters", _set("geography.regions.0.zip_codes", ["8020A"]), "five-digit ZIP"),
    ("state-lowercase", _set("geography.state", "co"), "geography.state"),
    ("country-not-us", _set("geography.country", "CA"), "geography.country"),
    ("name-escapes", _set("name", "../../etc"), "name: expected letters"),
    ("name-absolute", _set("name", "/tmp/x"), "name: expected letters"),
    ("name-dots", _set("name", ".."), "name: expected letters"),
    ("temperature-high", _set("agent.temperature", 5), "agent.temperature"),
]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(content, expected, id=case)
        for case, content, expected in BAD_CONFIGS
    ],
)
def test_bad_config_is_one_line_exit_2(
    write_config: Callable[..., Path], tmp_path: Path, content: Any, expected: str
) -> None:
    path = write_config(content)
    data_dir = tmp_path / "data"

    result = CliRunner().invoke(run_command, [str(path), "--data-dir", str(data_dir)])

    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {path}: ")
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert not data_dir.exists()


def test_missing_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"

    result = CliRunner().invoke(
        run_command, [str(missing), "--data-dir", str(tmp_path)]
    )

    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {missing}: file not found; check the path"


def test_file_stem_that_cannot_name_a_run(write_config: Callable[..., Path]) -> None:
    config = small_config()
    del config["name"]
    path = write_config(config, name="my city!.yaml")

    with pytest.raises(ConfigError, match="add a 'name:'"):
        load_config(path)


def test_unquoted_five_digit_zip_is_accepted(write_config: Callable[..., Path]) -> None:
    text = Path(write_config(small_config())).read_text().replace("'80202'", "80202")
    path = write_config(text, name="unquoted.yaml")

    loaded = load_config(path)

    assert loaded.batch.regions[0].zip_codes[0] == "80202"


def test_denver_config_has_four_regions_with_zip_codes() -> None:
    loaded = load_config(Path(__file__).parent.parent / "configs" / "denver.yaml")

    names = [region.name for region in loaded.batch.regions]
    assert names == [
        "Downtown Denver & LoDo",
        "North Denver",
        "South Denver",
        "West/East Metro",
    ]
    assert all(region.zip_codes and region.areas for region in loaded.batch.regions)
    assert loaded.batch.agent.model == "auto"
    assert loaded.batch.run.min_success_share == 0.75
