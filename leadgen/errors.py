"""Typed errors the library raises for problems a user can fix.

The CLI turns each of these into one line on stderr and a fixed exit code;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class LeadgenError(Exception):
    """Base of every error leadgen expects and explains to the user."""

    exit_code = 1


class ConfigError(LeadgenError):
    """A config file is missing, unreadable or invalid."""

    exit_code = 2


class UsageError(LeadgenError):
    """A command-line option or argument does not make sense."""

    exit_code = 2


class RunLockedError(LeadgenError):
    """Another live run already holds the run folder."""

    exit_code = 4


class StorageError(LeadgenError):
    """The run folder or database cannot be written or read."""

    exit_code = 5


class ExecutorError(LeadgenError):
    """The chosen executor cannot run regions as set up.

    Raised before any region starts: the Dask extra is not installed, no
    scheduler was named, or the scheduler does not answer.
    """

    exit_code = 2


class WorkerLostError(LeadgenError):
    """A cluster worker running a region died more often than the cluster allows."""


class CheckpointError(LeadgenError):
    """A checkpoint file is damaged, stale or does not match its region."""


class ProviderError(ConfigError):
    """The configured model provider cannot be used as set up.

    Raised before any worker starts: a missing key, an unreachable server, an
    unknown provider prefix or a missing optional extra.
    """


class AgentOutputError(LeadgenError):
    """A region agent's reply is not a valid lead list, even after a repair turn."""
