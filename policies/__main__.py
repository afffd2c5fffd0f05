"""Entry point Pulumi runs for ``--policy-pack policies``: builds the PolicyPack (serves forever).

Imports work from an installed repo (``inferstack.policies``) or, when Pulumi runs this directory with its own
venv from ``requirements.txt`` (which installs the repo with ``-e ..``), via the sys.path fallback below.
"""

import sys
from pathlib import Path

try:
    from inferstack.policies.pack import PACK_NAME, POLICIES
except ImportError:  # running from a checkout whose package is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from inferstack.policies.pack import PACK_NAME, POLICIES

from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
