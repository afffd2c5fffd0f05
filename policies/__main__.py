"""Entry point Pulumi runs for ``--policy-pack policies``: builds the PolicyPack (serves forever).

Pulumi's Python language host starts a pack as ``python -u -m pulumi.policy <engine address> <pack dir>`` in the pack
directory, with the interpreter of the virtualenv ``PulumiPolicy.yaml`` names (``policies/venv``, filled from
``requirements.txt``, which installs this repository): ``inferstack.policies`` then comes from the installed package.

From a checkout whose package is not installed in the running Python (``python3 policies/__main__.py`` with the
dependencies but not inferstack installed, from any directory), the repository is put on ``sys.path`` and its
top-level ``components/``, ``serving/`` and ``policies/`` directories are loaded as ``inferstack.components``,
``inferstack.serving`` and ``inferstack.policies``, as ``pyproject.toml``'s package-dir maps them when installed.
"""

import importlib.util
import sys
from pathlib import Path

#: Repository directories that install as subpackages of ``inferstack`` (pyproject.toml [tool.setuptools.package-dir]).
MAPPED = ("components", "serving", "policies")


def load_from_checkout() -> None:
    """Make the checkout around this file importable as the installed package would be."""
    root = Path(__file__).resolve().parent.parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    import inferstack

    for sub in MAPPED:
        name = f"inferstack.{sub}"
        if name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(
            name, root / sub / "__init__.py", submodule_search_locations=[str(root / sub)])
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        setattr(inferstack, sub, module)
        spec.loader.exec_module(module)


try:
    from inferstack.policies.pack import PACK_NAME, POLICIES
except ModuleNotFoundError as err:
    if err.name not in ("inferstack", "inferstack.policies"):
        raise SystemExit(f"the policy pack's dependencies are missing ({err}): install policies/requirements.txt into "
                         "the pack's virtualenv (PulumiPolicy.yaml names it: policies/venv)") from None
    load_from_checkout()
    from inferstack.policies.pack import PACK_NAME, POLICIES

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402 - after the import path is settled

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
