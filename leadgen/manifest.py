"""The run manifest ``run.json``: what a run is and how each region fared.

The manifest is a report, not the source of truth: a region is finished only
if its checkpoint is valid. The driver rewrites the manifest atomically after
every region, so it is current even after a crash. It lives beside the
checkpoints: in the run folder, or on the storage named by ``--storage``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from leadgen import __version__
from leadgen.checkpoint import atomic_write_text
from leadgen.storage import Location, RemotePath

MANIFEST_NAME = "run.json"


@dataclass
class RegionRecord:
    """How one region stands in this run."""

    region: str
    slug: str
    cache_key: str
    status: str = "pending"  # pending, running, done, skipped, failed, timeout, ...
    attempts: int = 0
    seconds: float | None = None
    companies: int | None = None
    usage: dict[str, int] = field(default_factory=dict)
    error_type: str | None = None
    error: str | None = None
    # Size and mtime of the checkpoint when it was last found valid (size and
    # version token on remote storage): an unchanged file need not be parsed
    # again on resume.
    checkpoint_stat: list[int | str] | None = None

    @property
    def succeeded(self) -> bool:
        return self.status in ("done", "skipped")


@dataclass
class Manifest:
    """Everything ``run.json`` holds."""

    run_name: str
    config_path: str
    config_hash: str
    config: dict[str, Any]
    model: str
    regions: dict[str, RegionRecord]
    status: str = "running"
    leadgen_version: str = __version__
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def write(self, run_dir: Location) -> None:
        """Save atomically as ``run.json`` in the run folder (one put on storage).

        One region per line keeps the file readable and fast to write for runs
        with thousands of regions.
        """
        self.updated_at = time.time()
        head = {k: v for k, v in vars(self).items() if k not in ("config", "regions")}
        text = (
            json.dumps(head, indent=1)[:-2]
            + ',\n "config": '
            + json.dumps(self.config)
            + ',\n "regions": [\n'
            + ",\n".join(json.dumps(vars(r)) for r in self.regions.values())
            + "\n]}\n"
        )
        if isinstance(run_dir, RemotePath):
            (run_dir / MANIFEST_NAME).write_bytes(text.encode("utf-8"))
        else:
            atomic_write_text(run_dir / MANIFEST_NAME, text)


def file_stat(path: Location) -> list[int | str] | None:
    """Size and modification time (ns) of a file, or None when it is missing.

    On remote storage the modification time is the object's version token.
    """
    if isinstance(path, RemotePath):
        return path.stat()
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def read_manifest(run_dir: Location) -> dict[str, Any] | None:
    """The manifest of a run folder as plain data, or None when there is none."""
    path = run_dir / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
