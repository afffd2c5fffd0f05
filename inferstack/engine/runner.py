"""Running a Pulumi program under Pulumi's mock runtime with a monitor that records every registration.

:class:`RecordingMonitor` (a :class:`pulumi.runtime.mocks.MockMonitor`) keeps the whole ``RegisterResource``
request of every resource; :func:`run_program` runs a program file with a stack's config and returns the
:class:`~inferstack.engine.recording.Recording`; resources on default providers then get a provider synthesized
from the stack config, so every resource's region is known.

A run is a short-lived batch of allocations that are almost all alive until it ends: the cyclic garbage collector
is kept from scanning them over and over (:func:`batch_gc`), and a declaring frame's file is resolved once per file.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import gc
import hashlib
import importlib
import inspect
import json
import logging
import runpy
import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pulumi
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as psettings
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from inferstack.config import bounded
from inferstack.config.stack import ConfigError, file_issue
from inferstack.engine.errors import ProgramError
from inferstack.engine.mocks import STACK_OUTPUTS_KEY, OfflineMocks
from inferstack.engine.recording import Lookup, Recording, ResourceRecord, SourcePosition, provider_urn
from inferstack.engine.results import fields, resource_class
from inferstack.engine.wire import Secret, Unknown, from_struct, redact

__all__ = [
    "DEFAULT_PROGRAM",
    "PROJECT",
    "REPO_ROOT",
    "STACK_OUTPUTS_KEY",
    "ProgramError",
    "RecordingMonitor",
    "batch_gc",
    "run_program",
    "run_stack",
]

PROJECT = "inferstack"
#: The repository root in a checkout (``inferstack/engine/runner.py`` is two packages below it); in an installed
#: wheel, the directory holding the ``inferstack`` package.
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The program ``pulumi up`` runs: the project's ``__main__.py`` in a checkout; from an installed wheel (no project
#: files), ``inferstack/program.py`` run as a script, which calls the same :func:`inferstack.program.main`.
DEFAULT_PROGRAM = (
    REPO_ROOT / "__main__.py"
    if (REPO_ROOT / "Pulumi.yaml").is_file()
    else Path(__file__).resolve().parents[1] / "program.py"
)

#: Generation-0 threshold of the cyclic GC during a run (CPython's default is 700).
BATCH_GC_THRESHOLD = 100_000
_gc_depth = 0


@contextlib.contextmanager
def batch_gc() -> Iterator[None]:
    """Run a batch (a program run, a policy evaluation) without the cyclic GC rescanning what it builds.

    Objects alive on entry (modules, SDKs, earlier recordings) are frozen out of collections and the generation-0
    threshold is raised; both are restored on exit, after one collection of the young generations, so the batch's
    garbage (finished futures and their finalizers included) goes now, not in whatever code runs next. Nested uses
    keep the outermost one's settings.
    """
    global _gc_depth
    if _gc_depth:
        _gc_depth += 1
        try:
            yield
        finally:
            _gc_depth -= 1
        return
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(BATCH_GC_THRESHOLD, thresholds[1], thresholds[2])
    _gc_depth = 1
    try:
        yield
    finally:
        _gc_depth = 0
        gc.collect(1)
        gc.set_threshold(*thresholds)
        gc.unfreeze()


# ---------------------------------------------------------------- the recording monitor


@functools.cache
def _frame_file(uri: str) -> str | None:
    """The file of a stack frame's URI as recorded (relative to the repository when inside it); None for SDK
    frames. Cached by URI: each file is resolved once per process."""
    path = unquote(urlparse(uri).path)
    if "site-packages" in path or "/pulumi/" in path:
        return None
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return path


def _source_of(request: Any) -> SourcePosition | None:
    """The first frame of the user's code that declared the resource (SDK frames skipped)."""
    if request.HasField("sourcePosition") and request.sourcePosition.uri:
        pos = request.sourcePosition
        file = _frame_file(pos.uri)
        if file is not None:
            return SourcePosition(file=file, line=pos.line)
    if request.HasField("stackTrace"):
        for frame in request.stackTrace.frames:
            pos = frame.pc
            if pos.uri:
                file = _frame_file(pos.uri)
                if file is not None:
                    return SourcePosition(file=file, line=pos.line)
    return None


#: The file of the SDK's invoke machinery (``pulumi/runtime/invoke.py``): its ``_invoke`` builds every invoke request
#: in a coroutine ``do_invoke`` whose ``check_dependencies`` is true only for the output form (``get_x_output``).
_INVOKE_FILE = importlib.import_module("pulumi.runtime.invoke").__file__


def invoke_form(loop: asyncio.AbstractEventLoop, request: Any) -> str:
    """``output`` when ``request`` was sent by an output-form invoke (``get_x_output(...)``, which can carry
    unknowns), ``plain`` otherwise (``get_x(...)`` and ``invoke_async``, which need a known result).

    Found by reading, not changing, the SDK's state: the ``do_invoke`` coroutine that sent this very request object
    (its local ``req``) is awaited in one of the loop's tasks, and its ``check_dependencies`` flag is the SDK's own
    mark of the output form."""
    for task in asyncio.all_tasks(loop):
        coro: Any = task.get_coro()
        while coro is not None and hasattr(coro, "cr_frame"):
            frame = coro.cr_frame
            if (frame is not None and coro.cr_code.co_name == "do_invoke" and coro.cr_code.co_filename == _INVOKE_FILE
                    and frame.f_locals.get("req") is request):
                return "output" if frame.f_locals.get("check_dependencies") else "plain"
            coro = coro.cr_await
    return "plain"  # not found: a known (placeholder) answer never stops a program


class RecordingMonitor(pmocks.MockMonitor):
    """A MockMonitor that keeps the whole RegisterResource request of every resource, and the data-source calls and
    resource reads with how they were answered."""

    def __init__(self, mocks: OfflineMocks):
        super().__init__(mocks)
        self.mocks: OfflineMocks = mocks
        self.records: list[ResourceRecord] = []
        self.lookups: list[Lookup] = []
        #: The program's event loop: its tasks tell a plain-form invoke from an output-form one.
        self.loop = _ensure_event_loop()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # Like the real engine: the type is qualified by the parent's whole type chain (the parent URN's type part,
        # already qualified), except under the root stack, whose children carry no parent type.
        if parent:
            qualified = parent.split("::")[2]
            if qualified != "pulumi:pulumi:Stack":
                type_ = qualified + "$" + type_
        return "urn:pulumi:" + "::".join([psettings.get_stack(), psettings.get_project(), type_, name])

    def Invoke(self, request: Any) -> Any:
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)
        _ensure_event_loop()
        form = invoke_form(self.loop, request)
        region = None
        if request.provider:  # an explicit provider: its region (a data source answers for the provider's region)
            provider = self.resources.get(provider_urn(request.provider))
            region = provider.state.get("region") if provider is not None else None
        result, lookup = self.mocks.invoke(
            request.tok, rpc.deserialize_properties(request.args), form, region if isinstance(region, str) else None
        )
        lookup.args = from_struct(request.args)
        self.lookups.append(lookup)
        if result is None:  # wholly unknown, as the engine answers an invoke it cannot serve at preview time
            return resource_pb2.ResourceInvokeResponse(unknown=True)
        return resource_pb2.ResourceInvokeResponse(**{"return": _sync_await(rpc.serialize_properties(result, {}))})

    def ReadResource(self, request: Any) -> Any:
        """``Resource.get(name, id)`` (and ``StackReference``, a read): the id given, the state given and what the
        mocks supply (a StackReference's outputs) are known, every other output is unknown (the offline engine
        cannot read the cloud). Not a resource of the program: recorded as a lookup."""
        _ensure_event_loop()
        rid = "" if request.id == rpc.UNKNOWN else request.id
        # The mocks answer what they know of a read: a StackReference's outputs (from the stack config); others
        # get their given state back.
        _, state = self.mocks.new_resource(pmocks.MockResourceArgs(
            typ=request.type, name=request.name, inputs=rpc.deserialize_properties(request.properties),
            provider=request.provider, resource_id=rid,
        ))
        urn = self.make_urn(request.parent, request.type, request.name)
        self.resources[urn] = pmocks.MockMonitor.ResourceRegistration(urn, rid, state)
        cls = resource_class(request.type)
        declared = sorted(fields(cls)) if cls is not None else []
        self.lookups.append(Lookup(
            "read", request.type, form="read", supplied=sorted({"id", *state}) if rid else sorted(state),
            unknown=[f for f in declared if f not in state], name=request.name, id=rid or None, urn=urn,
        ))
        props = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.ReadResourceResponse(urn=urn, id=rid, properties=props)

    def RegisterResource(self, request: Any) -> Any:
        resp = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return resp
        inputs = from_struct(request.object)
        outputs = from_struct(resp.object) if resp.HasField("object") else {}
        self.records.append(
            ResourceRecord(
                urn=resp.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                provider=request.provider or None,
                protect=bool(request.protect) if request.HasField("protect") else False,
                retain_on_delete=bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                inputs=inputs,
                outputs=outputs,
                id=resp.id or None,
                source=_source_of(request),
                additional_secret_outputs=list(request.additionalSecretOutputs),
                aliases=[a.urn for a in request.aliases if a.urn] if hasattr(request, "aliases") else [],
                replace_on_changes=list(request.replaceOnChanges),
                delete_before_replace=bool(request.deleteBeforeReplace),
            )
        )
        return resp


# ---------------------------------------------------------------- config, default providers, exports


def _h(*parts: str, n: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def _config_strings(config: Mapping[str, Any], secrets: Mapping[str, str]) -> tuple[dict[str, str], set[str]]:
    """Stack config as Pulumi passes it to a program: strings, JSON for objects, secure values substituted."""
    out: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(key)
            # Ciphertext cannot be decrypted offline: the value is given by the caller or a marked placeholder.
            value = secrets.get(key, f"offline-secret-{_h(key, n=12)}")
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out, secret_keys


#: Provider packages whose default provider is synthesized, and the stack settings it carries.
DEFAULT_PROVIDER_PACKAGES = ("aws", "gcp", "kubernetes")


def _default_provider_inputs(package: str, region: str, project: str | None) -> dict[str, Any]:
    if package == "aws":
        return {"region": region}
    if package == "gcp":
        return {"region": region, "project": project}
    return {}


def _synthesize_default_providers(
    stack: str, region: str, project: str | None, records: list[ResourceRecord], pulumi_project: str = PROJECT
) -> None:
    """Give every resource on a default provider a provider record carrying the stack's region."""
    defaults: dict[str, ResourceRecord] = {}
    for r in list(records):
        if not r.custom or r.provider or r.is_provider or r.package not in DEFAULT_PROVIDER_PACKAGES:
            continue
        prov = defaults.get(r.package)
        if prov is None:
            prov = ResourceRecord(
                urn=f"urn:pulumi:{stack}::{pulumi_project}::pulumi:providers:{r.package}::default",
                type=f"pulumi:providers:{r.package}", name="default", custom=True, parent=None, provider=None,
                protect=False, retain_on_delete=False, dependencies=[], property_dependencies={},
                inputs=_default_provider_inputs(r.package, region, project), id="default", synthesized=True,
            )
            defaults[r.package] = prov
            records.insert(0, prov)
        r.provider = f"{prov.urn}::default"


def _cancel_leftover_tasks() -> None:
    """Drop what a failed program left behind (registrations waiting on a failed output, such as a StackReference
    without outputs): Pulumi keeps pending outputs in a process-wide set that the next program run would await."""
    loop = asyncio.get_event_loop()
    with psettings.SETTINGS.lock:
        leftover = [t for t in psettings.SETTINGS.outputs if isinstance(t, asyncio.Future)]
        psettings.SETTINGS.outputs.clear()
    pending = {t for t in asyncio.all_tasks(loop) if not t.done()} | set(leftover)
    for task in pending:
        task.cancel()
    if pending and not loop.is_running():
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    # Mark the failed program's finished futures as retrieved, and close the SDK coroutines it created but never
    # started (Output.future, Output.is_known): otherwise their finalizers log "exception was never retrieved" or
    # "coroutine ... was never awaited" at a random later point (inside another test's ast.parse on CPython 3.11,
    # which then fails with "AST constructor recursion depth mismatch").
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.Future) and obj.done() and not obj.cancelled():
            obj.exception()
        elif (isinstance(obj, types.CoroutineType) and "/pulumi/" in obj.cr_code.co_filename
              and inspect.getcoroutinestate(obj) == inspect.CORO_CREATED):
            obj.close()


async def _resolve_export(value: Any) -> Any:
    """A stack output's value, wrapped in :class:`Secret` when Pulumi keeps it secret; :class:`Unknown` if unknown."""
    out = pulumi.Output.from_input(value)
    if not await out.is_known():
        return Unknown()
    resolved = await out.future()
    return Secret(resolved) if await out.is_secret() else resolved


# ---------------------------------------------------------------- running a program


def run_program(
    stack: str,
    config: Mapping[str, Any],
    *,
    region: str,
    project: str | None = None,
    program: str | Path = DEFAULT_PROGRAM,
    secrets: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
    pulumi_project: str = PROJECT,
    unknown_stack_references: bool = False,
) -> Recording:
    """Run ``program`` (a Pulumi Python program) for ``stack`` with ``config`` and return what it declared.

    ``pulumi_project`` is the Pulumi project name the URNs carry (the ``name`` of the program's ``Pulumi.yaml``);
    ``project`` is the Google Cloud project of a GCP stack.

    ``config`` maps ``namespace:key`` to values as in ``Pulumi.<stack>.yaml``; ``{secure: ...}`` values are
    replaced by ``secrets[key]`` or a placeholder, and passed to the program as secrets. ``StackReference``s are
    answered from the config's :data:`STACK_OUTPUTS_KEY`; a reference to a stack not listed there stops the run
    with a :class:`ProgramError` naming the key, or, with ``unknown_stack_references``, has unknown outputs (what
    a team's own program gets when it is judged without its other stacks' outputs).
    """
    cfg, secure = _config_strings(config, secrets or {})
    secure |= set(secret_keys)
    refs = _stack_outputs(stack, config.get(STACK_OUTPUTS_KEY) or {})
    ctx = contextvars.copy_context()
    return ctx.run(_run, stack, cfg, secure, region, project, Path(program), refs, pulumi_project,
                   unknown_stack_references)


def _stack_outputs(stack: str, value: Any) -> Mapping[str, Mapping[str, Any]]:
    """The :data:`STACK_OUTPUTS_KEY` value: a mapping of stack names to their outputs (a JSON string decoded bounded,
    like every config value); ConfigError naming the key otherwise."""
    try:
        refs = bounded.config_value(value)
    except bounded.DecodeError as err:
        raise ConfigError(f"stack {stack}", [file_issue(STACK_OUTPUTS_KEY, str(err))]) from None
    if not isinstance(refs, Mapping) or not all(isinstance(v, Mapping) for v in refs.values()):
        raise ConfigError(f"stack {stack}", [file_issue(
            STACK_OUTPUTS_KEY, "expected a mapping of stack names to {outputs: {...}, secretOutputNames: [...]}"
        )])
    return refs


class _Collect(logging.Handler):
    """Keeps what the program logs (``pulumi.log`` reaches the mock engine's logger) as (level, message)."""

    def __init__(self, into: list[tuple[str, str]]):
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append((record.levelname.lower(), record.getMessage()))


def _program_logger(into: list[tuple[str, str]]) -> logging.Logger:
    """A logger of its own per run (not the root logger: nothing is printed twice or lost to logging's config)."""
    logger = logging.Logger("inferstack.engine.program", logging.DEBUG)
    logger.addHandler(_Collect(into))
    return logger


def _run(
    stack: str, cfg: dict[str, str], secure: set[str], region: str, project: str | None, program: Path,
    stack_outputs: Mapping[str, Mapping[str, Any]], pulumi_project: str = PROJECT, unknown_stack_references: bool = False,
) -> Recording:
    psettings.ROOT.set(None)
    pulumi.runtime.set_all_config(cfg, sorted(secure))
    monitor = RecordingMonitor(OfflineMocks(region, project, stack, stack_outputs, unknown_stack_references))
    logs: list[tuple[str, str]] = []
    pmocks.set_mocks(monitor.mocks, project=pulumi_project, stack=stack, preview=True, monitor=monitor,
                     logger=_program_logger(logs))
    program_dir = str(program.resolve().parent)
    added = program_dir not in sys.path
    if added:
        sys.path.insert(0, program_dir)
    exports: dict[str, Any] = {}

    def run() -> None:
        runpy.run_path(str(program), run_name="__main__")
        # The mock runtime registers the root stack's outputs before the program runs; read the exports from it.
        exports.update(getattr(psettings.get_root_resource(), "outputs", None) or {})

    try:
        try:
            with batch_gc():
                _sync_await(run_pulumi_func(run))
                outputs = {name: _sync_await(_resolve_export(value)) for name, value in exports.items()}
        except BaseException:
            _cancel_leftover_tasks()
            raise
    finally:
        if added:
            sys.path.remove(program_dir)
    # Registration order depends on how the program's outputs resolve (asyncio), so it differs between runs; every
    # report reads the records in URN order instead, which makes preview, render and policy output byte-stable.
    records = sorted(monitor.records, key=lambda r: r.urn)
    _synthesize_default_providers(stack, region, project, records, pulumi_project)
    lookups = sorted(monitor.lookups, key=lambda x: (x.kind, x.token, x.name or "", json.dumps(redact(x.args), sort_keys=True, default=str)))
    return Recording(stack=stack, resources=records, outputs=outputs, logs=logs, lookups=lookups)


def run_stack(stack_config: Any, program: str | Path = DEFAULT_PROGRAM, secrets: Mapping[str, str] | None = None) -> Recording:
    """Run the program for a validated :class:`inferstack.config.StackConfig`."""
    return run_program(
        stack_config.name,
        dict(stack_config.values),
        region=stack_config.region,
        project=stack_config.project,
        program=program,
        secrets=secrets,
        secret_keys=stack_config.secret_keys,
    )
