"""The offline engine: runs the real Pulumi program under Pulumi's mock runtime and records every resource.

Nothing is stubbed: the program, the components and the provider SDKs are the ones ``pulumi up`` runs. Only the
engine is replaced: a recording monitor (a :class:`pulumi.runtime.mocks.MockMonitor`) sees every
``RegisterResource`` request (type, name, parent, provider, protect, retainOnDelete, dependencies, inputs with
secrets still marked, source position) and answers with realistic outputs (ids, ARNs, endpoints, kubeconfigs)
so that code downstream of those outputs runs too; every other output a provider computes is unknown, as in a
real preview. Resources on default providers get a provider synthesized
from the stack config, so every resource's region is known.

Modules, each importing only those before it:

- :mod:`~inferstack.engine.wire`: the wire codec (secrets, resource references, unknowns; :func:`is_unknown`);
- :mod:`~inferstack.engine.recording`: :class:`Recording` and :class:`ResourceRecord`, indexed by URN, type and
  provider, and the data-source calls and reads (:class:`Lookup`);
- :mod:`~inferstack.engine.results`: the declared result shapes of data sources and resources, from the installed
  provider SDKs, and placeholder values of those shapes;
- :mod:`~inferstack.engine.mocks`: the per-cloud fake outputs (AWS, Google Cloud, Kubernetes) and invokes;
- :mod:`~inferstack.engine.runner`: :func:`run_program` / :func:`run_stack` and the recording monitor.
"""

from inferstack.engine.errors import ProgramError
from inferstack.engine.mocks import ACCOUNT_ID, STACK_OUTPUTS_KEY, OfflineMocks
from inferstack.engine.recording import Lookup, Recording, ResourceRecord, SourcePosition, provider_urn
from inferstack.engine.runner import (
    DEFAULT_PROGRAM,
    PROJECT,
    REPO_ROOT,
    RecordingMonitor,
    batch_gc,
    run_program,
    run_stack,
)
from inferstack.engine.wire import (
    UNKNOWN,
    UNKNOWN_SENTINEL,
    Secret,
    Unknown,
    is_unknown,
    redact,
    unwrap_secrets,
)

__all__ = [
    "ACCOUNT_ID",
    "DEFAULT_PROGRAM",
    "Lookup",
    "PROJECT",
    "REPO_ROOT",
    "STACK_OUTPUTS_KEY",
    "UNKNOWN",
    "UNKNOWN_SENTINEL",
    "OfflineMocks",
    "ProgramError",
    "Recording",
    "RecordingMonitor",
    "ResourceRecord",
    "Secret",
    "SourcePosition",
    "Unknown",
    "batch_gc",
    "is_unknown",
    "provider_urn",
    "redact",
    "run_program",
    "run_stack",
    "unwrap_secrets",
]
