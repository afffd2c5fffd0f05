"""The ``inferstack`` console script: Ctrl-C ends a command with exit 130 and one line, never a traceback.

The handler is installed before the CLI imports anything, so it covers start-up too. Commands that clean up after
themselves on an interrupt (``registry`` marks an interrupted push failed, ``rollout`` releases its lock) get
Python's ``KeyboardInterrupt`` back when they start (:data:`inferstack.cli.GRACEFUL`); the offline commands write
their output only at the end, so they stop at once. The only uncovered moment is Python's own start-up, before this
module runs (a few milliseconds).
"""

from __future__ import annotations

import os
import signal
import sys


def exit_on_interrupt(signum: int, frame: object) -> None:
    """SIGINT handler: one line, exit 130, no cleanup (nothing has been written yet)."""
    try:
        sys.stderr.write("error: interrupted\n")
        sys.stderr.flush()
    finally:
        os._exit(130)


def entrypoint() -> None:
    signal.signal(signal.SIGINT, exit_on_interrupt)
    # Imported here so that the handler above covers the CLI's own imports (pydantic, the subcommand's SDKs).
    from inferstack.cli import entrypoint as run

    run()
