"""Errors every layer may raise or catch; nothing here imports another inferstack module or a Pulumi SDK."""

from __future__ import annotations


class ProgramError(Exception):
    """A Pulumi program failed under the offline engine; the message names the exception and the program's line."""
