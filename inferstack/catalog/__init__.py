"""Pure data every layer shares: clouds, accelerator kinds and shapes, pinned versions, ports and runtimes.

The bottom layer of inferstack: nothing here imports another inferstack package, and nothing here declares a
resource or reads a file. See ``docs/architecture.md``.
"""
