"""The ``inferstack`` console script: a Ctrl-C while Python is still importing ends with exit 130 and one line,
not a traceback; then the CLI (``inferstack.cli.main``) runs with Python's own interrupt handling."""

from __future__ import annotations

import os
import signal
import sys


def _interrupted_while_starting(signum: int, frame: object) -> None:
    print("error: interrupted", file=sys.stderr)
    os._exit(130)


def entrypoint() -> None:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    # Imported here so that the handler above covers the CLI's own imports (pydantic, the subcommand's SDKs).
    from inferstack.cli import entrypoint as run

    signal.signal(signal.SIGINT, signal.default_int_handler)
    run()
