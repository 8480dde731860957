"""One region's saved answer: written atomically, trusted only when valid.

A checkpoint counts as finished work only if the file exists, parses, matches
the schema and carries the cache key the current inputs produce. Anything
else is set aside (never deleted) and the region runs again. Checkpoints live
in a local folder or on storage named by a URL (see ``leadgen.storage``).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from leadgen.errors import CheckpointError
from leadgen.schema import SCHEMA_VERSION, CompanyLead
from leadgen.storage import Location, RemotePath


class TaggedCompany(CompanyLead):
    """A company as the run keeps it: the agent's row plus where it came from."""

    rank: int
    discovery_source: str


class RegionUsage(BaseModel):
    """Model usage of one region, summed over its turns."""

    model_config = ConfigDict(extra="forbid")

    requests: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    search_calls: int = 0
    cost_usd: float | None = None


class Checkpoint(BaseModel):
    """Everything saved about a region that finished."""

    model_config = ConfigDict(extra="forbid")

    format: Literal[1] = 1
    schema_version: str
    cache_key: str
    region: str
    discovery_source: str
    model: str
    attempt: int
    started_at: float
    finished_at: float
    seconds: float
    usage: RegionUsage
    companies: list[TaggedCompany]
    search_exhausted: bool
    quality_notes: str


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so readers see the old content or the new, never a mix.

    The text goes to a temporary file in the same folder, is flushed to disk,
    and then renamed over the target.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; some file systems do not allow it.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_checkpoint(path: Location, checkpoint: Checkpoint) -> None:
    """Save a region's answer: atomically on a local disk, once on remote storage.

    Raises:
        FileExistsError: when remote storage already holds a file of that
            name; it is never replaced (object stores have no atomic rename).
        OSError: when the storage cannot be written.
    """
    text = checkpoint.model_dump_json(indent=2) + "\n"
    if isinstance(path, RemotePath):
        path.create(text.encode("utf-8"))
    else:
        atomic_write_text(path, text)


def read_checkpoint(path: Location, expected_key: str | None = None) -> Checkpoint:
    """Load and validate a checkpoint.

    Raises:
        FileNotFoundError: when there is no checkpoint.
        CheckpointError: when it is damaged, of another schema or stale.
    """
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a folder, not a checkpoint") from None
    return parse_checkpoint(raw, str(path), expected_key)


def parse_checkpoint(
    raw: bytes, path: str, expected_key: str | None = None
) -> Checkpoint:
    """Validate a checkpoint's bytes; ``path`` names it in error messages.

    Raises:
        CheckpointError: when it is damaged, of another schema or stale.
    """
    if not raw.strip():
        raise CheckpointError(f"{path}: file is empty")
    try:
        checkpoint = Checkpoint.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise CheckpointError(f"{path}: not valid JSON ({first['msg']})") from None
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise CheckpointError(f"{path}: {where}: {first['msg']}") from None

    if checkpoint.schema_version != SCHEMA_VERSION:
        raise CheckpointError(
            f"{path}: schema version {checkpoint.schema_version}, "
            f"expected {SCHEMA_VERSION}"
        )
    if expected_key is not None and checkpoint.cache_key != expected_key:
        raise CheckpointError(f"{path}: made from other inputs (cache key differs)")
    return checkpoint


def set_aside(path: Location, reason: str) -> Location:
    """Move a bad or stale checkpoint out of the way, keeping it for inspection."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    folder = path.parent / "set-aside"
    if isinstance(folder, Path):
        folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{path.stem}.{stamp}.{reason}{path.suffix}"
    counter = 1
    while target.exists():
        target = folder / f"{path.stem}.{stamp}.{reason}.{counter}{path.suffix}"
        counter += 1
    if isinstance(path, RemotePath):
        path.move(RemotePath(str(target)))
    else:
        os.replace(path, str(target))
    return target
