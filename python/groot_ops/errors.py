"""Errors shared by every part of groot_ops.

Each error names what the operator has to look at (a file, a column, an episode, a host) so
that the CLI and the Ansible modules can print one clear line and exit non-zero.
"""

from __future__ import annotations


class GrootOpsError(Exception):
    """Base class: a failure the operator can act on, with a readable message."""


class InputError(GrootOpsError):
    """Bad input data or arguments (missing file, wrong column width, unknown recipe...)."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        column: str | None = None,
        episode: int | None = None,
    ) -> None:
        self.path = path
        self.column = column
        self.episode = episode
        where = [
            part
            for part in (
                f"file {path}" if path else None,
                f"column {column}" if column else None,
                f"episode {episode}" if episode is not None else None,
            )
            if part
        ]
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


class ConfigError(GrootOpsError):
    """Inconsistent configuration (recipe, flags, inventory)."""
