"""The offline evaluator's cost model: each resource's view is built once and shared by every policy; a pack
policy runs only on the types its entry names; providers are looked up through the recording's index."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from inferstack.engine import UNKNOWN, Recording, ResourceRecord, Secret
from inferstack.policies import evaluate as ev
from inferstack.policies.pack import ENTRY_BY_NAME, POLICIES

STACK = "urn:pulumi:t::inferstack::pulumi:pulumi:Stack::inferstack-t"
PROVIDER = "urn:pulumi:t::inferstack::pulumi:providers:aws::p"


def res(type_: str, name: str, inputs: dict[str, Any], provider: str | None = f"{PROVIDER}::id") -> ResourceRecord:
    return ResourceRecord(f"urn:pulumi:t::inferstack::{type_}::{name}", type_, name, True, STACK, provider,
                          False, False, [], {}, inputs)


def fixture() -> Recording:
    prov = ResourceRecord(PROVIDER, "pulumi:providers:aws", "p", True, None, None, False, False, [], {},
                          {"region": "eu-west-1", "token": Secret("t")})
    key = res("aws:kms/key:Key", "key", {"enableKeyRotation": True, "policy": Secret("{}")})
    bucket = res("aws:s3/bucket:Bucket", "bucket", {"bucket": UNKNOWN})
    bucket.dependencies = [key.urn]
    queue = res("aws:sqs/queue:Queue", "queue", {"name": "q"})
    ns = res("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "team-a"}}, provider=None)
    return Recording("t", [prov, key, bucket, queue, ns])


class Spy:
    """Resource and stack policies recording what each call was given."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))

    def resource(self, name: str) -> ResourceValidationPolicy:
        def validate(args, report) -> None:
            self.seen[name][args.urn].append(args)
        return ResourceValidationPolicy(name=name, description=name, validate=validate)

    def stack(self, name: str) -> StackValidationPolicy:
        def validate(args, report) -> None:
            self.seen[name]["stack"].append(args)
        return StackValidationPolicy(name=name, description=name, validate=validate)


def test_each_resource_view_is_built_once_and_shared_by_every_policy() -> None:
    rec, spy = fixture(), Spy()
    policies = [spy.resource("a"), spy.resource("b"), spy.stack("s1"), spy.resource("c"), spy.stack("s2")]
    assert ev.evaluate(rec, {}, policies=policies) == []
    urns = [r.urn for r in rec.resources if not r.is_provider]
    for urn in urns:
        calls = [spy.seen[p][urn] for p in ("a", "b", "c")]
        assert all(len(c) == 1 for c in calls), urn
        a, b, c = (c[0] for c in calls)
        # The same props (the unknown-checking proxy), options and provider objects: not rebuilt per policy.
        assert a.props is b.props is c.props and a.opts is b.opts is c.opts and a.provider is b.provider is c.provider
    # One provider view for every resource on the provider, with secrets revealed as policies see them.
    providers = {id(spy.seen["a"][u][0].provider) for u in urns if spy.seen["a"][u][0].resource_type.startswith("aws:")}
    assert len(providers) == 1 and spy.seen["a"][urns[0]][0].provider.props == {"region": "eu-west-1", "token": "t"}
    # A custom resource registered without a provider sees its package's default provider, as in a real engine.
    (ns,) = [spy.seen["a"][u][0] for u in urns if spy.seen["a"][u][0].resource_type.startswith("kubernetes:")]
    assert (ns.provider.resource_type, ns.provider.name, ns.provider.props) == ("pulumi:providers:kubernetes", "default", {})
    assert ns.provider.urn == "urn:pulumi:t::inferstack::pulumi:providers:kubernetes::default"
    # Stack policies share one list of PolicyResources, the same props and options the resource policies saw.
    (s1,), (s2,) = spy.seen["s1"]["stack"], spy.seen["s2"]["stack"]
    assert [id(r) for r in s1.resources] == [id(r) for r in s2.resources] and s1.resources is not s2.resources
    by_urn = {r.urn: r for r in s1.resources}
    assert by_urn[urns[1]].props == {"bucket": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}
    assert by_urn[urns[1]].opts is spy.seen["a"][urns[1]][0].opts
    assert [d.urn for d in by_urn[urns[1]].dependencies] == [urns[0]]


def test_a_pack_policy_runs_only_on_the_types_its_entry_names() -> None:
    rec = fixture()
    views = ev._views(rec)
    kms = ENTRY_BY_NAME["kms-key-rotation"].policy
    workloads = ENTRY_BY_NAME["no-privileged-workloads"].policy
    custom = Spy().resource("custom")
    targets = ev._targets([kms, workloads, custom], views)
    assert [v.record.name for v in targets[id(kms)]] == ["key"]
    assert [v.record.name for v in targets[id(workloads)]] == ["ns"]
    assert [v.record.name for v in targets[id(custom)]] == ["key", "bucket", "queue", "ns"]  # not the pack's: all


def test_the_whole_pack_over_the_fixture() -> None:
    """Same findings as each policy evaluated alone (sharing the views changes nothing)."""
    rec = fixture()
    config = {"region-residency": {"enforcementLevel": "mandatory", "allowedRegions": ["eu-west-1"]}}
    together = [f.to_json() for f in ev.evaluate(rec, config)]
    alone = [f.to_json() for p in POLICIES for f in ev.evaluate(fixture(), config, policies=[p])]
    assert together == alone
    assert {f["policy"] for f in together} >= {"s3-bucket-sse-kms", "s3-no-public-access", "prod-stateful-protected"}


def test_pod_specs_are_shared_within_an_evaluation_only() -> None:
    """evaluate works out each object's pod specs once (pod_spec_cache): the same props give the same specs, other
    props of the same kind their own, and outside an evaluation nothing is kept (a changed object is read again)."""
    from inferstack.policies.rules import k8s_objects as ko

    def deployment(image: str) -> dict[str, Any]:
        return {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}}

    a, b = deployment("a:1"), deployment("b:1")
    with ko.pod_spec_cache():
        first = ko.pod_specs(ko.K8sObject("Deployment", a))
        assert ko.pod_specs(ko.K8sObject("Deployment", a))[0] is first[0]
        assert ko.pod_specs(ko.K8sObject("Deployment", b))[0].containers[0].container["image"] == "b:1"
    assert ko._POD_SPECS is None
    a["spec"]["template"]["spec"]["containers"][0]["image"] = "a:2"
    assert ko.pod_specs(ko.K8sObject("Deployment", a))[0].containers[0].container["image"] == "a:2"


def test_stack_resources_see_outputs_under_inputs() -> None:
    """A stack policy's resource props: the recorded outputs, each input overriding the output of its name."""
    r = res("aws:s3/bucket:Bucket", "b", {"bucket": "in", "tags": {"a": "1"}})
    r.outputs = {"arn": "arn:aws:s3:::out", "bucket": "out", "tags": {"a": "2"}}
    view = ev.ResourceView(r, None)
    (pr,) = ev._stack_resources([view])
    assert pr.props == {"arn": "arn:aws:s3:::out", "bucket": "in", "tags": {"a": "1"}}
    assert list(pr.props) == ["arn", "bucket", "tags"]
