"""The engine's error: what a program run under the offline engine raises when it cannot complete.

Defined in :mod:`inferstack.errors` (the bottom layer) so that the CLI can catch it without importing the engine.
"""

from __future__ import annotations

from inferstack.errors import ProgramError

__all__ = ["ProgramError"]
