"""Kubernetes AI Conformance of a stack, computed from its offline recording (``inferstack conformance``).

- :mod:`~inferstack.conformance.evidence`: what the recording declares (accelerator pools, objects, Helm releases);
- :mod:`~inferstack.conformance.requirements`: one evaluator per requirement id (status, evidence, notes);
- :mod:`~inferstack.conformance.report`: the upstream checklist filled in, as YAML, JSON or Markdown.

The checklists and KAR test plans are catalogue data (:mod:`inferstack.catalog.ai_conformance`).
"""

from __future__ import annotations

from inferstack.conformance.report import FORMATS, build_report, render, summary
from inferstack.conformance.requirements import EVALUATORS, Result

__all__ = ["EVALUATORS", "FORMATS", "Result", "build_report", "render", "summary"]
