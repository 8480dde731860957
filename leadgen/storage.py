"""Where a run keeps its checkpoints and ``run.json``: a local folder or a URL.

A local folder is a plain ``pathlib.Path`` and keeps the atomic local write
(temporary file, fsync, rename). Anything named by a URL with a scheme
(``s3://``, ``gs://``, ``memory://``, ...) is a ``RemotePath`` reached through
fsspec, which is imported only then, so local runs never pay for it. A
``file://`` URL is simply a local folder.

Object stores have no atomic rename. A remote checkpoint is therefore created
once under its final name (exclusively where the backend supports it, after
an existence check everywhere) and counts only if it validates; callers never
overwrite a valid one. ``run.json`` is a report, rewritten with one put.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from leadgen.errors import UsageError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")

# Keys of fsspec's file info that change whenever an object is written again,
# most specific first (S3 and Azure, GCS, generic, memory and local).
_VERSION_KEYS = (
    "ETag",
    "etag",
    "generation",
    "md5Hash",
    "mtime",
    "LastModified",
    "last_modified",
    "updated",
    "created",
)


@dataclass(frozen=True)
class RemotePath:
    """A file or folder on storage named by an fsspec URL.

    It offers the few path operations a run needs, with the names ``pathlib``
    uses, so checkpoint and manifest code reads the same for both kinds.
    Errors of any backend surface as ``OSError`` (``FileNotFoundError`` and
    ``FileExistsError`` included), as they would for a local file.
    """

    url: str

    def __str__(self) -> str:
        return self.url

    def __truediv__(self, part: str) -> RemotePath:
        return RemotePath(f"{self.url.rstrip('/')}/{part}")

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        return self.name.rsplit(".", 1)[0] if "." in self.name else self.name

    @property
    def suffix(self) -> str:
        return "." + self.name.rsplit(".", 1)[1] if "." in self.name else ""

    @property
    def parent(self) -> RemotePath:
        return RemotePath(self.url.rstrip("/").rsplit("/", 1)[0])

    def read_bytes(self) -> bytes:
        """The whole file; ``FileNotFoundError`` when there is none."""
        fs, path = self._fs()
        with _as_os_errors():
            data: bytes = fs.cat_file(path)
        return data

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def exists(self) -> bool:
        fs, path = self._fs()
        with _as_os_errors():
            return bool(fs.exists(path))

    def stat(self) -> list[int | str] | None:
        """Size and version token of the file, or None when it is missing."""
        fs, path = self._fs()
        try:
            with _as_os_errors():
                info = fs.info(path)
        except FileNotFoundError:
            return None
        return _stat_of(info)

    def listing(self) -> dict[str, list[int | str] | None]:
        """Size and version token of each file in this folder, by file name.

        One listing request instead of one request per file: what lets a
        resume on an object store check thousands of checkpoints quickly.
        """
        fs, path = self._fs()
        try:
            with _as_os_errors():
                entries = fs.ls(path, detail=True)
        except FileNotFoundError:
            return {}
        return {
            str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]: _stat_of(entry)
            for entry in entries
            if entry.get("type") == "file"
        }

    def create(self, data: bytes) -> None:
        """Write a new file; ``FileExistsError`` when one is already there.

        The existence check comes first on every backend; the write itself is
        exclusive where the backend can refuse to replace an object, which
        closes the gap between the check and the write.
        """
        fs, path = self._fs()
        with _as_os_errors():
            if fs.exists(path):
                raise FileExistsError(self.url)
            try:
                with fs.open(path, "xb") as handle:
                    handle.write(data)
            except NotImplementedError:  # the backend has no exclusive mode
                fs.pipe_file(path, data)

    def write_bytes(self, data: bytes) -> None:
        """Write the file in one put, replacing what was there."""
        fs, path = self._fs()
        with _as_os_errors():
            fs.pipe_file(path, data)

    def move(self, target: RemotePath) -> None:
        """Move to ``target`` on the same storage (a copy and a delete on stores)."""
        fs, path = self._fs()
        _, target_path = target._fs()
        with _as_os_errors():
            fs.mv(path, target_path)

    def _fs(self) -> tuple[Any, str]:
        from fsspec.core import url_to_fs

        # fsspec caches filesystem instances, so this is cheap after the first.
        fs, path = url_to_fs(self.url)
        return fs, str(path)


Location = Path | RemotePath


def locate(where: str | Path | RemotePath) -> Location:
    """A local ``Path`` for paths and ``file://`` URLs, a ``RemotePath`` otherwise.

    Raises:
        UsageError: for a URL whose scheme fsspec does not know or whose
            filesystem package is not installed.
    """
    if isinstance(where, Path | RemotePath):
        return where
    match = _SCHEME.match(where)
    if match is None:
        return Path(where)
    if match.group(1).lower() == "file":
        return Path(unquote(urlsplit(where).path))
    return _checked(RemotePath(where.rstrip("/")))


def is_remote(where: str | Location) -> bool:
    """True when ``where`` names storage reached through fsspec."""
    return isinstance(locate(where), RemotePath)


def read_many(paths: list[RemotePath]) -> list[bytes | None]:
    """The contents of many remote files, None for each one that is missing.

    One call lets fsspec fetch them concurrently where the backend can (S3,
    GCS, Azure), which makes a merge of thousands of checkpoints quick.

    Raises:
        OSError: for any failure other than a missing file.
    """
    if not paths:
        return []
    fs, _ = paths[0]._fs()
    names = [path._fs()[1] for path in paths]
    with _as_os_errors():
        found = fs.cat(names, on_error="return")
    contents: list[bytes | None] = []
    for name in names:
        value = found.get(name, FileNotFoundError(name))
        if isinstance(value, FileNotFoundError):
            contents.append(None)
        elif isinstance(value, BaseException):
            raise OSError(f"{type(value).__name__}: {value}") from value
        else:
            contents.append(value)
    return contents


def _checked(remote: RemotePath) -> RemotePath:
    try:
        import fsspec  # noqa: F401
    except ImportError:
        raise UsageError(
            f"{remote}: storage URLs need fsspec; install it with: pip install fsspec"
        ) from None
    try:
        remote._fs()
    except ImportError as exc:
        raise UsageError(
            f"{remote}: {exc}; install the filesystem package for this scheme"
        ) from None
    except ValueError as exc:
        raise UsageError(
            f"{remote}: {exc}; use a local folder or a URL such as "
            "s3://bucket/prefix, gs://bucket/prefix or memory://name"
        ) from None
    return remote


def _stat_of(info: dict[str, Any]) -> list[int | str] | None:
    # A size alone cannot tell an unchanged object from a rewritten one of the
    # same length, so without a version token the file is not trusted unseen.
    for key in _VERSION_KEYS:
        value = info.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, datetime):
            value = value.timestamp()
        return [int(info.get("size") or 0), str(value)]
    return None


@contextmanager
def _as_os_errors() -> Iterator[None]:
    # Cloud SDKs raise their own exception types (credentials, throttling,
    # HTTP errors); callers handle storage failures as OSError, so they are
    # carried over with their message, the original chained.
    try:
        yield
    except OSError:
        raise
    except Exception as exc:
        raise OSError(f"{type(exc).__name__}: {exc}") from exc
