"""Families of SDK resource types, defined by construction from the installed Pulumi SDKs.

A *family* is the set of resource types that share a control (a resource policy document, encryption at rest, a
public IP, an IAM member ...). Its members are not listed by hand: a :class:`FamilySpec` holds a membership predicate
over :class:`SdkType` facts read from the installed SDK (type token, Python class, input names and annotations), and
``scripts/gen_families.py`` writes the members of every family to ``policies/families/data_<cloud>.py``. A test fails
when an SDK upgrade adds a member that no rule judges and no ``EXPLAINED`` entry excuses.

:func:`sdk_types` reads an SDK package without importing it (importing all of ``pulumi_aws`` takes minutes): the type
tokens and classes come from the package's resource registration (``_utilities.register(resource_modules=...)`` in its
``__init__.py``), each class's inputs from the signature of its ``_internal_init`` (the resource's input arguments,
what its ``*Args`` class holds), parsed with :mod:`ast`. It runs offline, in the generator and the ``--check`` test,
never at policy time.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType

#: The SDK package of each cloud a family can name.
SDK_PACKAGES: Mapping[str, str] = MappingProxyType(
    {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "kubernetes": "pulumi_kubernetes"})
#: Arguments of ``_internal_init`` that are not resource inputs.
_NOT_INPUTS = frozenset({"__self__", "self", "resource_name", "opts", "__props__"})
_REGISTER = re.compile(r'_utilities\.register\(\s*resource_modules="""(.*?)"""', re.S)
_CLASS = re.compile(r"^class (\w+)\(pulumi\.(?:CustomResource|ComponentResource)\):", re.M)


def camel(name: str) -> str:
    """The engine's (and a policy's) name of a Python input: ``kms_key_id`` -> ``kmsKeyId``."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


@dataclass(frozen=True)
class SdkType:
    """One resource type of an installed SDK.

    ``token`` is the type token (``aws:s3/bucketPolicy:BucketPolicy``), ``package`` the SDK's Python package
    (``pulumi_aws``), ``module`` the Python module exporting the class (``pulumi_aws.s3``), ``cls`` the class name,
    ``inputs`` each Python input argument -> its annotation text (``policy`` ->
    ``pulumi.Input[Union[_builtins.str, 'PolicyDocumentArgs']]``).
    """

    token: str
    package: str
    module: str
    cls: str
    inputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def cloud(self) -> str:
        """The type token's package (``aws``)."""
        return self.token.split(":", 1)[0]

    @property
    def token_module(self) -> str:
        """The type token's module (``s3/bucketPolicy``)."""
        return self.token.split(":")[1] if self.token.count(":") >= 2 else ""

    @property
    def service(self) -> str:
        """The first segment of the token's module (``s3``)."""
        return self.token_module.split("/", 1)[0]

    def has_input(self, *names: str) -> bool:
        return any(n in self.inputs for n in names)

    def inputs_matching(self, pattern: str) -> tuple[str, ...]:
        """The input names fully matching the regular expression ``pattern``, sorted."""
        rx = re.compile(pattern)
        return tuple(sorted(n for n in self.inputs if rx.fullmatch(n)))


@dataclass(frozen=True)
class FamilySpec:
    """A family: ``name`` (unique across clouds, e.g. ``aws-resource-policy``), ``cloud`` (aws, gcp, kubernetes),
    ``control`` (what its rules check, for messages and the coverage table), ``select`` (membership predicate over
    an :class:`SdkType`) and ``fields`` (the member's inputs that carry the control, recorded in the generated data
    so rules read them without the SDK; default: none)."""

    name: str
    cloud: str
    control: str
    select: Callable[[SdkType], bool]
    fields: Callable[[SdkType], tuple[str, ...]] = field(default=lambda t: ())

    def __post_init__(self) -> None:
        if self.cloud not in SDK_PACKAGES:
            raise ValueError(f"family {self.name}: unknown cloud {self.cloud!r}; allowed: {sorted(SDK_PACKAGES)}")

    def members(self, types: list[SdkType]) -> dict[str, tuple[str, ...]]:
        """Member token -> its control-carrying inputs, sorted by token."""
        return {t.token: tuple(self.fields(t)) for t in sorted(types, key=lambda t: t.token) if self.select(t)}


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"SDK package {package} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def args_classes(module: str) -> Mapping[str, Mapping[str, str]]:
    """``*Args`` class -> {input -> annotation} of one SDK module's ``_inputs.py`` (empty when it has none)."""
    root = _package_dir(module.split(".", 1)[0])
    f = root.joinpath(*module.split(".")[1:], "_inputs.py")
    if not f.exists():
        return {}
    out: dict[str, Mapping[str, str]] = {}
    for node in ast.parse(f.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef) and node.name.endswith("Args"):
            for b in node.body:
                if isinstance(b, ast.FunctionDef) and b.name == "__init__":
                    a = b.args
                    out[node.name] = {x.arg: ast.unparse(x.annotation) if x.annotation is not None else ""
                                      for x in [*a.args, *a.kwonlyargs] if x.arg not in ("self", "__self__")}
    return out


def sdk_version(package: str) -> str:
    """The installed distribution version of an SDK package (``pulumi_aws`` -> ``7.51.1``)."""
    return importlib.metadata.version(SDK_PACKAGES.get(package, package).replace("_", "-"))


def _signature_inputs(text: str, start: int, fn: str) -> dict[str, str] | None:
    """Input name -> annotation text of the method ``fn`` of the class whose source starts at ``start``."""
    nxt = _CLASS.search(text, start + 1)
    end = nxt.start() if nxt else len(text)
    at = text.find(f"    def {fn}(", start, end)
    if at < 0:
        return None
    close = text.find("):\n", at, end)
    if close < 0:
        return None
    tree = ast.parse(text[at + 4:close + 2] + "\n    pass\n")
    func = tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    a = func.args
    return {arg.arg: ast.unparse(arg.annotation) if arg.annotation is not None else ""
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs] if arg.arg not in _NOT_INPUTS}


@cache
def _classes(directory: Path) -> dict[str, tuple[Path, int]]:
    """Resource class name -> (file, offset of its ``class`` line) for the modules of one SDK directory."""
    out: dict[str, tuple[Path, int]] = {}
    for f in sorted(directory.glob("*.py")):
        text = f.read_text(encoding="utf-8")
        for m in _CLASS.finditer(text):
            out.setdefault(m.group(1), (f, m.start()))
    return out


def _inputs(directory: Path, cls: str) -> dict[str, str]:
    where = _classes(directory).get(cls)
    if where is None:
        return {}
    path, start = where
    text = _read(path)
    found = _signature_inputs(text, start, "_internal_init")
    if found is None:  # a hand-written overlay (Helm v3 Chart, ...): its __init__ takes the inputs
        found = _signature_inputs(text, start, "__init__") or {}
    return found


@lru_cache(maxsize=64)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def registered_types(package: str) -> dict[str, tuple[str, str]]:
    """Type token -> (Python module, class) from the package's resource registration, without importing it."""
    package = SDK_PACKAGES.get(package, package)
    text = (_package_dir(package) / "__init__.py").read_text(encoding="utf-8")
    out: dict[str, tuple[str, str]] = {}
    for block in _REGISTER.findall(text):
        for mod in json.loads(block):
            for token, cls in mod["classes"].items():
                out[token] = (mod["fqn"], cls)
    if not out:
        raise ValueError(f"{package}: no resource registration found in its __init__.py")
    return out


def sdk_types(package: str) -> list[SdkType]:
    """Every resource type of an installed SDK (``pulumi_aws``, or its cloud name ``aws``), sorted by token."""
    package = SDK_PACKAGES.get(package, package)
    root = _package_dir(package)
    out = []
    for token, (fqn, cls) in sorted(registered_types(package).items()):
        directory = root.joinpath(*fqn.split(".")[1:])
        out.append(SdkType(token, package, fqn, cls, MappingProxyType(_inputs(directory, cls))))
    return out
