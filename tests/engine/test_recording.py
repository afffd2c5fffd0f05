"""The recording model: lookups by URN, type, (type, name), parent and provider are index lookups, not scans."""

from __future__ import annotations

import pytest

from inferstack.engine import Recording, ResourceRecord, provider_urn
from tests.conftest import REFERENCE_STACKS, recording

STACK = "urn:pulumi:t::inferstack::pulumi:pulumi:Stack::inferstack-t"
AWS = "urn:pulumi:t::inferstack::pulumi:providers:aws::frankfurt"


def record(urn_type: str, name: str, *, parent: str | None = STACK, provider: str | None = None) -> ResourceRecord:
    return ResourceRecord(f"urn:pulumi:t::inferstack::{urn_type}::{name}", urn_type, name, True, parent, provider,
                          False, False, [], {}, {"name": name})


class CountingList(list):
    """A list that counts how often it is iterated (a scan)."""

    scans = 0

    def __iter__(self):
        CountingList.scans += 1
        return super().__iter__()


@pytest.fixture
def rec() -> Recording:
    provider = ResourceRecord(AWS, "pulumi:providers:aws", "frankfurt", True, None, None, False, False, [], {},
                              {"region": "eu-central-1"}, id="p1")
    component = ResourceRecord("urn:pulumi:t::inferstack::inferstack:x:Thing::thing", "inferstack:x:Thing", "thing",
                               False, STACK, None, False, False, [], {}, {})
    return Recording("t", CountingList([
        provider,
        component,
        record("aws:s3/bucket:Bucket", "a", provider=f"{AWS}::p1"),
        record("aws:s3/bucket:Bucket", "b", parent=component.urn, provider=AWS),  # a bare URN works too
        record("aws:sqs/queue:Queue", "q", provider="urn:pulumi:t::inferstack::pulumi:providers:aws::gone::x"),
        record("random:index/randomId:RandomId", "r"),
    ]))


def test_lookups(rec: Recording) -> None:
    a, b = rec.find("aws:s3/bucket:Bucket", "a"), rec.find("aws:s3/bucket:Bucket", "b")
    assert rec.by_urn(a.urn) is a and rec.get(b.urn) is b and rec.by_urn("urn:nope") is None
    assert rec.of_type("aws:s3/bucket:Bucket") == (a, b) and rec.by_type("aws:s3/bucket:Bucket") == [a, b]
    assert rec.of_type("aws:ec2/vpc:Vpc") == () and rec.types()[:2] == ["pulumi:providers:aws", "inferstack:x:Thing"]
    assert rec.children("urn:pulumi:t::inferstack::inferstack:x:Thing::thing") == [b]
    assert [r.name for r in rec.children(STACK)] == ["thing", "a", "q", "r"]
    with pytest.raises(KeyError):
        rec.get("urn:nope")
    with pytest.raises(KeyError):
        rec.find("aws:s3/bucket:Bucket", "c")


def test_provider_of(rec: Recording) -> None:
    provider = rec.by_urn(AWS)
    assert rec.provider_of(rec.find("aws:s3/bucket:Bucket", "a")) is provider
    assert rec.provider_of(rec.find("aws:s3/bucket:Bucket", "b")) is provider
    assert rec.provider_of(rec.find("aws:sqs/queue:Queue", "q")) is None  # a provider the recording lacks
    assert rec.provider_of(rec.find("random:index/randomId:RandomId", "r")) is None  # no provider reference
    assert provider_urn(f"{AWS}::p1") == provider_urn(AWS) == AWS
    assert rec.find("aws:s3/bucket:Bucket", "a").provider_urn == AWS


def test_lookups_use_the_index_and_never_scan(rec: Recording) -> None:
    rec.by_urn(AWS)  # builds the index: one pass over the resources
    CountingList.scans = 0
    for r in list.__iter__(rec.resources):
        assert rec.by_urn(r.urn) is r and rec.get(r.urn) is r and rec.find(r.type, r.name) is r
        rec.provider_of(r), rec.of_type(r.type), rec.children(r.urn)
    assert CountingList.scans == 0
    assert rec.index is rec.index


def test_the_index_follows_added_resources(rec: Recording) -> None:
    rec.by_urn(AWS)
    extra = record("aws:s3/bucket:Bucket", "c", provider=f"{AWS}::p1")
    rec.resources.append(extra)
    assert rec.by_urn(extra.urn) is extra and rec.of_type(extra.type)[-1] is extra
    assert rec.provider_of(extra) is rec.by_urn(AWS)


def test_an_indexed_recording_compares_like_a_fresh_one(rec: Recording) -> None:
    copy = Recording(rec.stack, list(rec.resources))
    rec.by_urn(AWS)
    assert rec == copy and "_index" not in repr(rec)


@pytest.mark.parametrize("name", REFERENCE_STACKS)
def test_indexes_agree_with_a_scan_on_reference_stacks(name: str) -> None:
    rec = recording(name)
    for r in rec.resources:
        assert rec.by_urn(r.urn) is r
        assert r in rec.of_type(r.type)
        expected = next((p for p in rec.resources if r.provider and p.urn == provider_urn(r.provider)), None)
        assert rec.provider_of(r) is expected
    assert sum(len(rec.of_type(t)) for t in rec.types()) == len(rec.resources)
