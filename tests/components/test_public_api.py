"""The public API of ``inferstack.components`` and ``inferstack.serving``: lazy, complete and resolvable."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from types import ModuleType

import pulumi
import pytest

import inferstack.components as components
import inferstack.serving as serving

PACKAGES = (components, serving)


def _modules(package: ModuleType) -> list[ModuleType]:
    out = [package]
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        out.append(importlib.import_module(info.name))
    return out


def _component_classes(package: ModuleType) -> dict[str, type]:
    """Every ComponentResource subclass defined in the package's modules, by class name."""
    found: dict[str, type] = {}
    for mod in _modules(package):
        for name, obj in vars(mod).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, pulumi.ComponentResource)
                and obj.__module__ == mod.__name__
                and not name.startswith("_")
            ):
                found[name] = obj
    return found


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_every_exported_name_resolves_to_its_module(package: ModuleType) -> None:
    assert package.__all__ == sorted(package._EXPORTS)
    for name in package.__all__:
        value = getattr(package, name)
        module_name, _, attr = package._EXPORTS[name].partition(":")
        module = importlib.import_module(module_name)
        assert value is getattr(module, attr or name), name
        if inspect.isclass(value) or inspect.isfunction(value):
            # Defined where the map says (config models re-exported from inferstack.config's own modules).
            assert value.__module__ == module.__name__, (name, value.__module__)
    assert set(package.__all__) <= set(dir(package))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_no_exported_name_is_shadowed_by_a_submodule(package: ModuleType) -> None:
    """Importing a submodule sets the package attribute of its name, which would hide a lazy export of that name."""
    submodules = {info.name for info in pkgutil.iter_modules(package.__path__)}
    assert not submodules & set(package.__all__)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_unknown_names_raise_attribute_error(package: ModuleType) -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchComponent'"):
        package.NoSuchComponent  # noqa: B018


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_every_component_resource_is_exported(package: ModuleType) -> None:
    classes = _component_classes(package)
    assert classes, f"no ComponentResource found in {package.__name__}"
    missing = sorted(set(classes) - set(package.__all__))
    assert not missing, f"ComponentResource classes not in {package.__name__}.__all__: {missing}"
    for name, cls in classes.items():
        assert getattr(package, name) is cls


def test_component_type_tokens_are_unique_and_namespaced() -> None:
    """Each exported component declares one ``inferstack:<module>:<Name>`` token in its __init__."""
    tokens: dict[str, str] = {}
    for package in PACKAGES:
        for name, cls in _component_classes(package).items():
            src = inspect.getsource(cls.__init__)
            found = [t for t in _string_literals(src) if t.startswith("inferstack:") and t.count(":") == 2]
            assert len(found) == 1, (name, found)
            assert found[0] not in tokens, f"{name} and {tokens.get(found[0])} share {found[0]}"
            tokens[found[0]] = name
    assert len(tokens) >= 20


def _string_literals(src: str) -> list[str]:
    import ast
    import textwrap

    tree = ast.parse(textwrap.dedent(src))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_import_loads_no_cloud_sdk_until_a_cloud_component_is_used() -> None:
    code = """
import json, sys
def sdks():
    return sorted(m for m in ("pulumi_aws", "pulumi_gcp", "boto3") if m in sys.modules)
import inferstack.components, inferstack.serving
from inferstack.components import StackConfig, lookup, PoolInfo, TeamNamespace
from inferstack.serving import Serving, ModelService
steps = [sdks()]
from inferstack.components import GcpPlatform
steps.append(sdks())
from inferstack.components import AwsPlatform
steps.append(sdks())
print(json.dumps({"steps": steps, "star": sorted(n for n in dir(inferstack.components) if not n.startswith("_"))}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["steps"] == [[], ["pulumi_gcp"], ["pulumi_aws", "pulumi_gcp"]]
    assert set(components.__all__) <= set(got["star"])


def test_star_import_gives_all() -> None:
    ns: dict[str, object] = {}
    exec("from inferstack.serving import *", ns)  # noqa: S102
    assert set(serving.__all__) <= set(ns)
