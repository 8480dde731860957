"""Checkpoints: atomic writes and strict validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadgen.checkpoint import (
    atomic_write_text,
    read_checkpoint,
    set_aside,
    write_checkpoint,
)
from leadgen.errors import CheckpointError
from leadgen.schema import LeadListOutput

from .conftest import sample_checkpoint


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c" / "downtown.json"
    write_checkpoint(path, sample_checkpoint())

    assert read_checkpoint(path, "k1") == sample_checkpoint()
    assert [p.name for p in path.parent.iterdir()] == ["downtown.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("", "file is empty", id="empty"),
        pytest.param("   \n", "file is empty", id="blank"),
        pytest.param('{"format": 1, "cache_', "not valid JSON", id="truncated"),
        pytest.param("\xff\xfe", "not valid JSON", id="binary"),
        pytest.param("[]", "(top level)", id="wrong-type"),
        pytest.param('{"format": 1}', "schema_version", id="missing-fields"),
    ],
)
def test_damaged_checkpoints_are_rejected(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "x.json"
    path.write_text(content, encoding="latin-1")

    with pytest.raises(
        CheckpointError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        read_checkpoint(path, "k1")


def test_wrong_key_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_checkpoint(path, sample_checkpoint("other"))

    with pytest.raises(CheckpointError, match="cache key differs"):
        read_checkpoint(path, "k1")


def test_other_schema_version_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    data = json.loads(sample_checkpoint().model_dump_json())
    data["schema_version"] = "0"
    path.write_text(json.dumps(data))

    with pytest.raises(CheckpointError, match="schema version 0"):
        read_checkpoint(path, "k1")


def test_failed_write_leaves_old_content(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    atomic_write_text(path, "old")

    with pytest.raises(TypeError):
        atomic_write_text(path, 42)  # type: ignore[arg-type]

    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_set_aside_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("junk")

    kept = set_aside(path, "damaged")

    assert not path.exists()
    assert kept.read_text() == "junk"
    assert kept.parent.name == "set-aside"


def test_output_schema_is_strict() -> None:
    from agents import AgentOutputSchema

    schema = AgentOutputSchema(LeadListOutput, strict_json_schema=True).json_schema()
    company = schema["$defs"]["CompanyLead"]

    assert set(company["required"]) == set(company["properties"])
    assert company["additionalProperties"] is False
    assert all("default" not in prop for prop in company["properties"].values())
    assert {"type": "null"} in company["properties"]["website"]["anyOf"]
