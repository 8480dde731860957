"""One live run per run folder.

Two drivers on one folder would run regions twice and race on the manifest.
The lock is a file created exclusively, holding the owner's pid and host; a
lock whose process is gone (a killed run) is taken over, not obeyed forever.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from leadgen.errors import RunLockedError, StorageError

LOCK_NAME = ".lock"


class RunLock:
    """Context manager holding a run folder's lock."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_NAME
        self._held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or raise ``RunLockedError`` naming its live holder."""
        for _ in range(3):
            if self._try_create():
                self._held = True
                return
            holder = self._holder()
            if holder is not None and _alive(holder):
                raise RunLockedError(
                    f"{self.path.parent}: another run (pid {holder.get('pid')} on "
                    f"{holder.get('host')}, since {holder.get('since')}) is using this "
                    "run folder; wait for it to finish or stop it"
                )
            # The holder is gone: remove its stale lock and try again.
            self.path.unlink(missing_ok=True)
        raise RunLockedError(f"{self.path}: could not take the run lock; try again")

    def release(self) -> None:
        if self._held:
            self.path.unlink(missing_ok=True)
            self._held = False

    def _try_create(self) -> bool:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        except OSError as exc:
            raise StorageError(
                f"{self.path.parent}: cannot write to the run folder ({exc.strerror}); "
                "check its permissions and free space"
            ) from None
        with os.fdopen(fd, "w") as handle:
            json.dump(info, handle)
        return True

    def _holder(self) -> dict[str, object] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def _alive(holder: dict[str, object]) -> bool:
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname():
        return True  # cannot check another machine's process: assume it lives
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
