"""The engine's error: what a program run under the offline engine raises when it cannot complete."""

from __future__ import annotations


class ProgramError(Exception):
    """The program failed under the offline engine."""
