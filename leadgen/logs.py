"""Logging set-up shared by the driver and the worker processes.

leadgen logs with loguru: one INFO line when a region starts and one when it
ends, retries at WARNING, detail at DEBUG. The agents SDK logs through stdlib
loggers; those records are routed into the same sinks. Nothing here ever logs
an API key or a prompt.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from loguru import logger

STDERR_FORMAT = "<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> {message}"
FILE_FORMAT = (
    "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <7} | pid={process} | {message} | {extra}"
)

SDK_LOGGERS = ("openai.agents", "openai.agents.tracing", "openai", "httpx")


class _ToLoguru(logging.Handler):
    """Forward stdlib log records (the SDK's) to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(exception=record.exc_info).log(level, record.getMessage())


def configure(
    *,
    log_file: Path | None = None,
    verbose: bool = False,
    quiet: bool = False,
    stderr: bool = True,
) -> None:
    """Replace loguru's sinks with leadgen's: stderr and, if given, a file."""
    logger.remove()
    if stderr:
        level = "DEBUG" if verbose else "WARNING" if quiet else "INFO"
        logger.add(sys.stderr, level=level, format=STDERR_FORMAT, colorize=None)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        logger.add(log_file, level="DEBUG", format=FILE_FORMAT, encoding="utf-8")
    _route_sdk_loggers()


def _route_sdk_loggers() -> None:
    handler = _ToLoguru()
    for name in SDK_LOGGERS:
        stdlib = logging.getLogger(name)
        stdlib.handlers = [handler]
        stdlib.propagate = False
        stdlib.setLevel(
            logging.WARNING if name in ("openai", "httpx") else logging.INFO
        )


def fields(**values: Any) -> str:
    """Render bound fields as ``key=value`` pairs for a one-line message."""
    return " ".join(f"{key}={value}" for key, value in values.items())
