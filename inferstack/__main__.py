"""``python -m inferstack``: the CLI."""

from inferstack.cli import entrypoint

entrypoint()
