"""``python -m inferstack``: the CLI."""

from inferstack.console import entrypoint

entrypoint()
