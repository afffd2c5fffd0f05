"""inferstack as a Pulumi component package: the schema other languages get, the plugin that serves it, and what the
components declare when constructed the way the engine constructs them for a TypeScript, Go or YAML program."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi import Output
from pulumi.errors import InputPropertiesError
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ProviderServicer
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from pydantic import BaseModel

from inferstack.catalog.accelerators import ACCELERATOR_LABEL, POOL_LABEL
from inferstack.components.platform import PoolInfo, pool_gpu_access
from inferstack.config import Cloud, Environment, InferstackConfig
from inferstack.config.platform import (
    AcceleratorPoolConfig,
    Capacity,
    EndpointAccess,
    GpuAllocation,
    LadderTierKind,
    NetworkConfig,
    WorkloadClass,
)
from inferstack.config.scheduling import ReclaimPolicy
from inferstack.config.serving import DeploymentMode, KvCacheDtype, Quantization, ScaleMetric
from inferstack.engine import Recording, run_program, unwrap_secrets
from inferstack.provider import COMPONENTS, PACKAGE, generate, package_version
from inferstack.provider.args import AwsPlatformArgs, GcpPlatformArgs, InferenceStackArgs
from inferstack.provider.config import component_stack_config
from inferstack.provider.generate import MIRRORED
from tests.conftest import REFERENCE_STACKS, REPO, recording, stack_config, stack_path

PREFIX = f"{PACKAGE}:index:"

#: Schema type of each nested argument type -> the config model it mirrors field for field.
#: Every config model the package mirrors (the generator's table; args.py is drift-tested against it).
MIRRORS: dict[str, type[BaseModel]] = dict(MIRRORED)
MIRROR_OF = {model: name for name, model in MIRRORS.items()}
#: Config fields deliberately left out of the cross-language surface.
NOT_EXPOSED = {("Policy", "enforcement")}  # per-policy levels belong to the policy pack's config, not a component

ENUMS: dict[str, type[Enum]] = {
    e.__name__: e
    for e in (
        Environment, Cloud, Capacity, ScaleMetric, LadderTierKind, WorkloadClass, DeploymentMode, KvCacheDtype, Quantization,
        EndpointAccess, ReclaimPolicy, GpuAllocation,
    )
}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/types/{PREFIX}{name}"}


STRING, INTEGER, NUMBER, BOOLEAN = ({"type": t} for t in ("string", "integer", "number", "boolean"))


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def string_map(values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": values}


_PLATFORM_INPUTS = {
    "environment": (ref("Environment"), True),
    "region": (STRING, True),
    "allowedRegions": (array(STRING), False),
    "network": (ref("Network"), False),
    "cluster": (ref("Cluster"), False),
    "acceleratorPools": (array(ref("AcceleratorPool")), False),
}
_PLATFORM_OUTPUTS = {"clusterName": STRING, "kubeconfig": STRING, "pools": string_map(ref("Pool"))}

#: The public surface as intended: component -> inputs (schema type, required) and outputs (schema type).
INPUTS: dict[str, dict[str, tuple[dict[str, Any], bool]]] = {
    "AwsPlatform": _PLATFORM_INPUTS,
    "GcpPlatform": {**_PLATFORM_INPUTS, "project": (STRING, True)},
    "InferenceStack": {
        **_PLATFORM_INPUTS,
        "cloud": (ref("Cloud"), True),
        "project": (STRING, False),
        "models": (array(ref("Model")), False),
        "teamNamespaces": (array(STRING), False),
        "registry": (ref("Registry"), False),
        "policy": (ref("Policy"), False),
        "scheduling": (ref("Scheduling"), False),
    },
}
OUTPUTS: dict[str, dict[str, dict[str, Any]]] = {
    "AwsPlatform": {**_PLATFORM_OUTPUTS, "kmsKeyArn": STRING, "oidcProviderArn": STRING, "oidcIssuer": STRING},
    "GcpPlatform": {**_PLATFORM_OUTPUTS, "kmsKeyId": STRING, "workloadPool": STRING},
    "InferenceStack": {
        **_PLATFORM_OUTPUTS,
        "kmsKey": STRING,
        "registryBucket": STRING,
        "registryReader": STRING,
        "models": array(STRING),
    },
}


def shape(prop: dict[str, Any]) -> dict[str, Any]:
    """A schema property reduced to its type: type / $ref, items, additionalProperties."""
    out = {k: prop[k] for k in ("type", "$ref") if k in prop}
    if "items" in prop:
        out["items"] = shape(prop["items"])
    if "additionalProperties" in prop:
        out["additionalProperties"] = shape(prop["additionalProperties"])
    return out


def expected_shape(annotation: Any) -> dict[str, Any]:
    """The schema type a config model field's annotation should have in the package."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return expected_shape(inner)
    if origin is list or (origin is tuple and typing.get_args(annotation)[1:] == (Ellipsis,)):
        return array(expected_shape(typing.get_args(annotation)[0]))
    if origin is dict:
        return string_map(expected_shape(typing.get_args(annotation)[1]))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return ref(annotation.__name__)
    if origin is typing.Annotated:
        return expected_shape(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ref(MIRROR_OF[annotation])
    return {str: STRING, int: INTEGER, float: NUMBER, bool: BOOLEAN}[annotation]


def _get_schema(provider: ComponentProvider) -> dict[str, Any]:
    """The schema through the provider's gRPC handler, the call `pulumi package add` / `get-schema` makes."""
    servicer = ProviderServicer(provider, [], engine_address="")
    return json.loads(_run(servicer.GetSchema(provider_pb2.GetSchemaRequest(version=0), None)).schema)


def _run(coro: Any) -> Any:
    """Run a coroutine on a private loop (asyncio.run would unset the thread's loop the engine runs on)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return _get_schema(ComponentProvider(COMPONENTS, PACKAGE, version=package_version()))


# ---------------------------------------------------------------- schema


def test_package_identity(schema: dict[str, Any]) -> None:
    assert schema["name"] == "inferstack"
    assert schema["version"] == package_version() != "0.0.0"
    assert set(schema["resources"]) == {f"{PREFIX}{c.__name__}" for c in COMPONENTS} == {PREFIX + n for n in INPUTS}
    assert all(r["isComponent"] for r in schema["resources"].values())


@pytest.mark.parametrize("component", sorted(INPUTS))
def test_component_inputs_types_and_requiredness(schema: dict[str, Any], component: str) -> None:
    res = schema["resources"][PREFIX + component]
    props = res["inputProperties"]
    assert set(props) == set(INPUTS[component])
    for name, (typ, _required) in INPUTS[component].items():
        assert shape(props[name]) == typ, name
        assert props[name].get("description"), name
        # Settings shape the resource graph: every argument is a plain value in every language.
        assert props[name].get("plain") is True, name
    assert sorted(res["requiredInputs"]) == sorted(n for n, (_, req) in INPUTS[component].items() if req)


@pytest.mark.parametrize("component", sorted(OUTPUTS))
def test_component_outputs(schema: dict[str, Any], component: str) -> None:
    res = schema["resources"][PREFIX + component]
    assert {n: shape(p) for n, p in res["properties"].items()} == OUTPUTS[component]
    assert sorted(res["required"]) == sorted(OUTPUTS[component])
    assert all(p.get("description") for p in res["properties"].values())
    assert res.get("description")


@pytest.mark.parametrize("type_name", sorted(MIRRORS))
def test_argument_types_mirror_the_config_models(schema: dict[str, Any], type_name: str) -> None:
    """Every field of the config model is an argument with the same camelCase name, type, requiredness and
    description: the models validate what other languages send, so the two must not drift."""
    model = MIRRORS[type_name]
    spec = schema["types"][PREFIX + type_name]
    assert spec["type"] == "object"
    fields = {f.alias or n: f for n, f in model.model_fields.items() if (type_name, n) not in NOT_EXPOSED}
    assert set(spec["properties"]) == set(fields)
    for name, f in fields.items():
        prop = spec["properties"][name]
        assert shape(prop) == expected_shape(f.annotation), name
        assert prop.get("description") == f.description, name
    assert sorted(spec.get("required", [])) == sorted(n for n, f in fields.items() if f.is_required())


#: Stack settings an InferenceStack takes in another form or not at all.
STACK_SETTINGS_ELSEWHERE = {
    "residency": "allowedRegions",
    "secrets": None,  # secret values come from a stack's secure config, not from component arguments
    "pricing": None,  # read by `inferstack cost`, not by the components
    "existingCluster": None,  # a stack kind of the program (the Kubernetes layer on a cluster made elsewhere); InferenceStack builds the cluster
}


def test_inference_stack_takes_every_stack_setting(schema: dict[str, Any]) -> None:
    """A new ``inferstack:`` setting must become an InferenceStack argument (or be listed above with its reason)."""
    props = schema["resources"][PREFIX + "InferenceStack"]["inputProperties"]
    for name, f in InferstackConfig.model_fields.items():
        key = f.alias or name
        if key in STACK_SETTINGS_ELSEWHERE:
            assert STACK_SETTINGS_ELSEWHERE[key] is None or STACK_SETTINGS_ELSEWHERE[key] in props
        else:
            assert key in props, f"inferstack:{key} is not an InferenceStack argument"
            assert shape(props[key]) == expected_shape(f.annotation), key


def test_args_are_generated_from_the_config_models() -> None:
    assert generate.update(check=True), "inferstack/provider/args.py is stale: run python -m inferstack.provider.generate"


def test_generator_names_what_it_cannot_mirror(tmp_path: Path) -> None:
    """A config model nested in a mirrored one but not mirrored itself, or an enum args.py does not import, is named
    (the schema analyzer resolves args.py's annotations in its own namespace)."""

    class Unmirrored(BaseModel):
        x: int = 1

    with pytest.raises(TypeError, match=r"Unmirrored is not mirrored: add it to MIRRORED"):
        generate._annotation(list[Unmirrored] | None)
    assert GpuAllocation in generate.enums() and ReclaimPolicy in generate.enums()
    text = generate.ARGS_PATH.read_text()
    stale = tmp_path / "args.py"
    stale.write_text(text.replace("GpuAllocation, ", "", 1))
    with pytest.raises(TypeError, match=r"does not import the enums the mirrored fields use: inferstack\.config\.platform\.GpuAllocation"):
        generate.update(stale, check=True)
    fresh = tmp_path / "fresh.py"
    fresh.write_text(text)
    assert generate.update(fresh, check=True)


@pytest.mark.parametrize("type_name", sorted(ENUMS))
def test_enums_carry_the_config_values(schema: dict[str, Any], type_name: str) -> None:
    spec = schema["types"][PREFIX + type_name]
    assert spec["type"] == "string"
    assert [(v["name"], v["value"]) for v in spec["enum"]] == [(m.name, m.value) for m in ENUMS[type_name]]


def test_no_other_types(schema: dict[str, Any]) -> None:
    assert set(schema["types"]) == {PREFIX + n for n in [*MIRRORS, *ENUMS, "Pool", "GpuAccess"]}


def test_pool_output_type_is_the_platform_stacks_pools_export(schema: dict[str, Any]) -> None:
    """Team stacks read a platform's pools from its stack output or from these components: one shape."""
    info = PoolInfo("gpu", "nvidia-l4", 4, 1, {"a": "b"}, "nvidia.com/gpu", "nvidia.com/gpu", ({"key": "k"},))
    spec = schema["types"][PREFIX + "Pool"]
    # gpuAccess only on DRA and shared GPU pools: optional, and absent from a device-plugin pool's output.
    assert set(info.to_output()) == set(spec["required"]) == set(spec["properties"]) - {"gpuAccess"}
    assert {n: shape(p) for n, p in spec["properties"].items()} == {
        "kind": STRING,
        "maxNodes": INTEGER,
        "devicesPerNode": INTEGER,
        "nodeSelector": string_map(STRING),
        "taintKey": STRING,
        "deviceResource": STRING,
        "tolerations": array(string_map(STRING)),
        "gpuAccess": ref("GpuAccess"),
    }


@pytest.mark.parametrize(
    "pool",
    [
        {"name": "gpu-l40s", "kind": "nvidia-l40s", "allocation": "dra"},
        {"name": "gpu-shared", "kind": "nvidia-l4", "sharing": {"timeSlicingReplicas": 4}},
        {"name": "gpu-mig", "kind": "nvidia-a100", "sharing": {"mig": "1g.10gb"}},
    ],
    ids=lambda p: p["name"],
)
def test_pool_gpu_access_output_has_the_schema_keys(schema: dict[str, Any], pool: dict[str, Any]) -> None:
    """A DRA or shared pool's ``gpuAccess`` (``pool_gpu_access``) uses the GpuAccess type's keys and values: the
    allocation enum's values, and the GpuSharing type's (camelCase, as the config) for the sharing map."""
    out = PoolInfo("p", pool["kind"], 4, 1, {}, "nvidia.com/gpu", "nvidia.com/gpu",
                   gpu_access=pool_gpu_access(AcceleratorPoolConfig.model_validate(pool))).to_output()
    access = out["gpuAccess"]
    assert access == {k: v for k, v in pool.items() if k in ("allocation", "sharing")}
    spec = schema["types"][PREFIX + "GpuAccess"]
    assert set(access) <= set(spec["properties"]) == {"allocation", "sharing"}
    assert shape(spec["properties"]["allocation"]) == ref("GpuAllocation")
    assert shape(spec["properties"]["sharing"]) == ref("GpuSharing")
    if "allocation" in access:
        assert access["allocation"] in {v["value"] for v in schema["types"][PREFIX + "GpuAllocation"]["enum"]}
    if "sharing" in access:
        assert set(access["sharing"]) <= set(schema["types"][PREFIX + "GpuSharing"]["properties"])


# ---------------------------------------------------------------- the plugin


def test_plugin_layout() -> None:
    plugin = yaml.safe_load((REPO / "provider" / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    assert plugin["runtime"]["options"]["virtualenv"] == "venv"
    reqs = [ln for ln in (REPO / "provider" / "requirements.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    # pip runs in provider/: the plugin installs the library of the same checkout (the tag `package add` fetched).
    assert reqs == ["-e ..[all]"]
    assert (REPO / "provider" / ".." / "pyproject.toml").resolve() == REPO / "pyproject.toml"


def test_plugin_process_serves_the_schema(schema: dict[str, Any]) -> None:
    """Run the plugin as the Python language host does (`python provider <engine>`) and ask it for its schema."""
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "provider"), "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO / "provider",
        env={**os.environ, "PYTHONPATH": ""},
    )
    try:
        port = proc.stdout.readline().decode().strip() if proc.stdout else ""
        assert port.isdigit(), proc.stderr.read().decode() if proc.stderr and proc.poll() is not None else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            served = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60).schema)
            info = stub.GetPluginInfo(empty_pb2.Empty(), timeout=60)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert served == schema
    assert info.version == package_version()


# ---------------------------------------------------------------- argument validation (no engine)


def _aws_args(**extra: Any) -> dict[str, Any]:
    return {"environment": Environment.DEV, "region": "eu-west-1", **extra}


def test_defaults_come_from_the_config_models() -> None:
    cfg = component_stack_config("team-a", Cloud.AWS, _aws_args(), AwsPlatformArgs.__required_keys__ | AwsPlatformArgs.__optional_keys__)
    assert cfg.name == "team-a" and cfg.region == "eu-west-1" and cfg.settings.residency.allowed_regions == ["eu-west-1"]
    assert cfg.settings.network == NetworkConfig() and cfg.settings.accelerator_pools == []


def _issues(name: str, cloud: Cloud, args: dict[str, Any], allowed: Any = None) -> list[tuple[str, str]]:
    allowed = allowed or (AwsPlatformArgs.__required_keys__ | AwsPlatformArgs.__optional_keys__)
    with pytest.raises(InputPropertiesError) as err:
        component_stack_config(name, cloud, args, allowed)
    return [(e["property_path"], e["reason"]) for e in err.value.errors or []]


def test_errors_name_the_argument_paths() -> None:
    # Type errors (2.5 zones), then the catalog check (a TPU kind on AWS), each at the argument's path.
    assert [p for p, _ in _issues("team-a", Cloud.AWS, _aws_args(network={"availability_zones": 2.5}))] == [
        "network.availabilityZones"
    ]
    bad_pool = {"name": "gpu", "kind": "tpu-v5e", "max_nodes": 2.0}
    (path, reason), *_ = _issues("team-a", Cloud.AWS, _aws_args(accelerator_pools=[bad_pool]))
    assert path == "acceleratorPools[0].kind" and "nvidia-l4" in reason
    assert _issues("team-a", Cloud.AWS, _aws_args(allowed_regions=["eu-central-1"]))[0][0] == "region"
    gcp_allowed = GcpPlatformArgs.__required_keys__ | GcpPlatformArgs.__optional_keys__
    gcp = _issues("team-a", Cloud.GCP, {"environment": Environment.DEV, "region": "europe-west4"}, gcp_allowed)
    assert gcp == [("project", "required: the Google Cloud project id")]


def test_names_unknown_arguments_and_outputs_are_refused() -> None:
    assert _issues("Team_A", Cloud.AWS, _aws_args())[0][0] == "name"
    assert _issues("team-a", Cloud.AWS, _aws_args(models=[]))[0][0] == "models"
    stack_args = InferenceStackArgs.__required_keys__ | InferenceStackArgs.__optional_keys__
    assert _issues("team-a", Cloud.AWS, _aws_args(cloud=Cloud.AWS, project="p1"), stack_args)[0][0] == "project"

    async def with_output() -> list[tuple[str, str]]:
        return _issues("team-a", Cloud.AWS, _aws_args(region=Output.from_input("eu-west-1")))

    assert _run(with_output())[0][0] == "region"


# ---------------------------------------------------------------- construct under the offline engine

PROGRAM = '''
import json
from pathlib import Path

import pulumi

from inferstack.provider import component_provider

here = Path(__file__).parent
spec = json.loads((here / "spec.json").read_text())
result = component_provider().construct(spec["name"], spec["type"], spec["inputs"], None)
# The state the provider returns to the calling program (its outputs, by schema name), once resolved.
pulumi.Output.all(**{k: pulumi.Output.from_input(v) for k, v in result.state.items()}).apply(
    lambda state: (here / "state.json").write_text(json.dumps(state))
)
'''


def _wire(value: Any) -> Any:
    """A value as it reaches the provider from another language: every number a float."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def _stack_inputs(stack: str, component: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Arguments (schema names) equivalent to a reference stack file, and that file's config."""
    config = yaml.safe_load(stack_path(stack).read_text())["config"]
    cloud = config["inferstack:cloud"]
    keys = set(INPUTS[component])
    inputs = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("inferstack:") and k.split(":", 1)[1] in keys}
    inputs["region"] = config[f"{cloud}:region"]
    inputs["allowedRegions"] = config["inferstack:residency"]["allowedRegions"]
    if "cloud" in keys:
        inputs["cloud"] = cloud
    if cloud == "gcp":
        inputs["project"] = config["gcp:project"]
    return inputs, config


def state(tmp_path: Path) -> dict[str, Any]:
    """Outputs the last :func:`construct` returned to its caller."""
    return json.loads((tmp_path / "state.json").read_text())


def construct(tmp_path: Path, stack: str, component: str) -> Recording:
    """Construct ``component`` named ``stack`` from the stack file's settings, through ComponentProvider.construct."""
    inputs, config = _stack_inputs(stack, component)
    (tmp_path / "program.py").write_text(PROGRAM)
    spec = {"name": stack, "type": PREFIX + component, "inputs": _wire(inputs)}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    cloud = config["inferstack:cloud"]
    return run_program(
        stack,
        {f"{cloud}:region": inputs["region"]},
        region=inputs["region"],
        project=config.get("gcp:project"),
        program=tmp_path / "program.py",
    )


def _ancestors(rec: Recording, urn: str | None) -> list[str]:
    out = []
    while urn:
        try:
            urn = rec.get(urn).parent
        except KeyError:
            break
        if urn:
            out.append(urn)
    return out


@pytest.mark.parametrize(("stack", "component", "real"), [("dev", "AwsPlatform", "inferstack:aws:Platform"), ("gcp-dev", "GcpPlatform", "inferstack:gcp:Platform")])
def test_platform_wrapper_declares_the_real_platform(tmp_path: Path, stack: str, component: str, real: str) -> None:
    rec = construct(tmp_path, stack, component)
    (wrapper,) = rec.by_type(PREFIX + component)
    (platform,) = rec.by_type(real)
    assert platform.parent == wrapper.urn and platform.name == stack
    # Everything the real platform declares in the program is declared here, under the wrapper, with the same inputs.
    program = recording(stack)
    (program_platform,) = program.by_type(real)
    expected = {(r.type, r.name): r.plain_inputs for r in program.resources if program_platform.urn in _ancestors(program, r.urn)}
    got = {(r.type, r.name): r.plain_inputs for r in rec.resources if platform.urn in _ancestors(rec, r.urn)}
    assert expected and got == expected
    # The caller gets every declared output, by its schema name, with the values the platform stack exports.
    out = state(tmp_path)
    assert set(out) == set(OUTPUTS[component])
    assert out["clusterName"] == f"inferstack-{stack}"
    exported = unwrap_secrets(program.outputs)
    assert out["kubeconfig"] == exported["kubeconfig"] and out["pools"] == exported["pools"]
    pools = stack_config(stack).settings.accelerator_pools
    assert set(out["pools"]) == {p.name for p in pools}
    for pool in pools:
        assert out["pools"][pool.name]["nodeSelector"][POOL_LABEL] == pool.name
        assert out["pools"][pool.name]["nodeSelector"][ACCELERATOR_LABEL] == pool.kind


#: Components of `pulumi up` an InferenceStack leaves out: secret values come from a stack's secure config.
SECRET_COMPONENTS = ("inferstack:secrets:AwsSecrets", "inferstack:secrets:GcpSecrets", "inferstack:secrets:ExternalSecrets")


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_inference_stack_declares_what_the_program_declares(tmp_path: Path, stack: str) -> None:
    """InferenceStack with a reference stack's settings declares the same resources, with the same inputs, as
    `pulumi up` of that stack, under the wrapper; only the secret store and External Secrets are left out."""
    rec = construct(tmp_path, stack, "InferenceStack")
    cfg = stack_config(stack)
    (wrapper,) = rec.by_type(PREFIX + "InferenceStack")
    children = {r.type for r in rec.children(wrapper.urn)}
    cloud = cfg.cloud.value
    registry = "inferstack:registry:AwsRegistry" if cloud == "aws" else "inferstack:registry:GcpRegistry"
    assert children == {f"inferstack:{cloud}:Platform", registry, "inferstack:serving:Serving"}
    program = recording(stack)
    left_out = {r.urn for r in program.resources if r.type in SECRET_COMPONENTS}
    assert left_out
    expected = {
        (r.type, r.name): r.plain_inputs
        for r in program.resources
        if not r.synthesized and r.urn not in left_out and not left_out & set(_ancestors(program, r.urn))
    }
    got = {(r.type, r.name): r.plain_inputs for r in rec.resources if not r.synthesized and r.urn != wrapper.urn}
    assert got == expected
    assert all(wrapper.urn in _ancestors(rec, r.urn) for r in rec.resources if not r.synthesized and r.urn != wrapper.urn)
    out = state(tmp_path)
    (bucket,) = [r for r in rec.resources if r.type in ("aws:s3/bucket:Bucket", "gcp:storage/bucket:Bucket")]
    assert out["models"] == [f"{m.namespace}/{m.name}" for m in cfg.settings.models]
    assert out["registryBucket"] == bucket.outputs["bucket" if cloud == "aws" else "name"]
    assert out["clusterName"] == f"inferstack-{stack}" and out["kmsKey"] and out["registryReader"]
    exported = unwrap_secrets(program.outputs)
    assert out["kubeconfig"] == exported["kubeconfig"] and out["pools"] == exported["pools"]


def test_aws_kubeconfig_output_holds_no_credential(tmp_path: Path) -> None:
    construct(tmp_path, "dev", "AwsPlatform")
    kubeconfig = json.loads(state(tmp_path)["kubeconfig"])
    (user,) = kubeconfig["users"]
    assert set(user["user"]) == {"exec"} and user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"] == ["eks", "get-token", "--cluster-name", "inferstack-dev", "--region", "eu-central-1"]
    assert kubeconfig["clusters"][0]["cluster"]["server"].startswith("https://")


def test_hostile_names_and_arguments_are_input_errors() -> None:
    """The component name takes the stack name's pattern as a whole (no trailing newline, ASCII only); arguments
    nested deeper than the config allows, or holding numbers beyond JSON's range, name the argument."""
    for name in ("team-a\n", "team-\u0430", "team-\uff11", "team-a\u200b"):
        assert _issues(name, Cloud.AWS, _aws_args()) == [("name", "1-32 lower-case letters, digits and dashes")]
    deep: Any = "x"
    for _ in range(100_000):
        deep = {"a": deep}
    (path, reason), *_ = _issues("team-a", Cloud.AWS, _aws_args(network=deep))
    assert path == "network" and "nested deeper than 64 levels" in reason
    (path, reason), *_ = _issues("team-a", Cloud.AWS, _aws_args(network={"availability_zones": 10**5000}))
    assert path == "network" and "too large" in reason
