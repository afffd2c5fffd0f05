"""``aws.iam.get_policy_document`` is computed by the provider from its arguments alone (the Terraform data source
``aws_iam_policy_document``): the offline engine answers ``json`` / ``minified_json`` with the same document.

The builder (:mod:`inferstack.engine.iam_documents`) is tested as a pure function for the provider's rules (sets
flattened and sorted in reverse, the ``"*"`` principal, conditions joined, source / override merging by Sid, Go's
JSON encoding), then through the engine: both call forms answered, an unknown argument leaves the result unknown,
arguments the provider refuses stop the run.
"""

from __future__ import annotations

import json
import textwrap
import zlib
from pathlib import Path

import pytest
from pulumi.output import Unknown

from inferstack.engine import ProgramError, is_unknown, run_program
from inferstack.engine.iam_documents import TOKEN, PolicyDocumentError, build_document, policy_document


def _doc(*statements, **kw):
    return build_document(list(statements), **kw)


# ---------------------------------------------------------------- statements


def test_one_element_sets_are_strings_several_sorted_in_reverse_duplicates_dropped() -> None:
    doc = _doc({"actions": ["s3:GetObject"], "notActions": ["b:x", "a:y", "c:z", "a:y"],
                "resources": ["arn:aws:s3:::a/*", "arn:aws:s3:::a", "arn:aws:s3:::a"]})
    assert doc == {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "NotAction": ["c:z", "b:x", "a:y"],
        "Resource": ["arn:aws:s3:::a/*", "arn:aws:s3:::a"]}]}


def test_statement_keys_in_the_provider_order_and_python_names_accepted() -> None:
    stmt = _doc({"conditions": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
                 "not_principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::1:root"]}],
                 "not_resources": ["r"], "resources": ["q"], "not_actions": ["n"], "actions": ["a"],
                 "effect": "Deny", "sid": "S1"})["Statement"][0]
    assert list(stmt) == ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "NotPrincipal", "Condition"]
    assert stmt["NotPrincipal"] == {"AWS": "arn:aws:iam::1:root"}


def test_star_principal_only_for_a_single_block_of_type_star() -> None:
    star = {"type": "*", "identifiers": ["*"]}
    assert _doc({"principals": [star]})["Statement"][0]["Principal"] == "*"
    assert _doc({"principals": [star, star]})["Statement"][0]["Principal"] == "*"  # a set: one block
    assert _doc({"principals": [{"type": "AWS", "identifiers": ["*"]}]})["Statement"][0]["Principal"] == {"AWS": "*"}
    both = _doc({"principals": [star, {"type": "AWS", "identifiers": ["*"]}]})["Statement"][0]["Principal"]
    assert both == {"*": "*", "AWS": "*"}


def test_principals_of_one_type_joined_identifiers_sorted_in_reverse() -> None:
    p = _doc({"principals": [
        {"type": "Service", "identifiers": ["ec2.amazonaws.com"]},
        {"type": "AWS", "identifiers": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]},
        {"type": "AWS", "identifiers": ["arn:aws:iam::333333333333:root"]},
    ]})["Statement"][0]["Principal"]
    assert list(p) == ["AWS", "Service"]
    assert p == {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::111111111111:root",
                         "arn:aws:iam::333333333333:root"], "Service": "ec2.amazonaws.com"}


def test_conditions_grouped_by_test_and_variable_values_in_order() -> None:
    c = _doc({"conditions": [
        {"test": "StringEquals", "variable": "aws:PrincipalOrgID", "values": ["o-abc"]},
        {"test": "StringLike", "variable": "s3:prefix", "values": ["", "home/", "home/&{aws:username}/"]},
        {"test": "StringEquals", "variable": "aws:PrincipalOrgID", "values": ["o-def"]},
        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]},
    ]})["Statement"][0]["Condition"]
    assert c == {"Bool": {"aws:SecureTransport": "true"},
                 "StringEquals": {"aws:PrincipalOrgID": ["o-abc", "o-def"]},
                 "StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}}
    assert list(c) == ["Bool", "StringEquals", "StringLike"]


def test_interpolation_marker_replaced_in_resources_not_actions_and_refused_in_2008() -> None:
    stmt = _doc({"actions": ["s3:&{x}"], "resources": ["arn:aws:s3:::b/home/&{aws:username}"]})["Statement"][0]
    assert stmt["Action"] == "s3:&{x}" and stmt["Resource"] == "arn:aws:s3:::b/home/${aws:username}"
    with pytest.raises(PolicyDocumentError, match="2008-10-17"):
        _doc({"resources": ["arn:aws:s3:::b/&{aws:username}"]}, version="2008-10-17")


@pytest.mark.parametrize(("stmt", "match"), [
    ({"effect": "allow"}, "Allow"), ({"sid": "not-alnum"}, "alphanumeric"),
    ({"principals": [{"identifiers": ["*"]}]}, "type"),
])
def test_arguments_the_provider_refuses(stmt, match) -> None:
    with pytest.raises(PolicyDocumentError, match=match):
        _doc(stmt)


def test_duplicate_sid_among_statements_refused_empty_sids_not() -> None:
    with pytest.raises(PolicyDocumentError, match=r"duplicate Sid \(A\)"):
        _doc({"sid": "A"}, {"sid": "A"})
    assert len(_doc({"sid": ""}, {}, {"actions": ["x"]})["Statement"]) == 3
    with pytest.raises(PolicyDocumentError, match="version"):
        _doc({}, version="2020-01-01")


def test_no_statements_is_the_version_alone_and_policy_id_written() -> None:
    assert build_document() == {"Version": "2012-10-17"}
    assert build_document(policy_id="p1", version="2008-10-17") == {"Version": "2008-10-17", "Id": "p1"}


# ---------------------------------------------------------------- merging


SOURCE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Keep", "Effect": "Allow", "Action": ["s3:List*"], "Resource": "*"},
    {"Sid": "Replace", "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"},
    {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*", "Extra": "dropped"},
]})


def test_sources_then_statements_then_overrides_sid_replaces_in_place() -> None:
    override = json.dumps({"Id": "final", "Statement": [{"Sid": "Keep", "Effect": "Deny", "Action": "s3:List*",
                                                          "Resource": "*"}, {"Action": "x:y", "Effect": "Allow"}]})
    doc = _doc({"sid": "Replace", "actions": ["s3:GetObject"], "resources": ["*"]}, {"actions": ["a:b"]},
               source_policy_documents=[SOURCE], override_policy_documents=[override], policy_id="mine")
    assert doc == {"Version": "2012-10-17", "Id": "final", "Statement": [
        {"Sid": "Keep", "Effect": "Deny", "Action": "s3:List*", "Resource": "*"},
        {"Sid": "Replace", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
        {"Effect": "Allow", "Action": "a:b"},
        {"Effect": "Allow", "Action": "x:y"},
    ]}


def test_source_documents_need_unique_sids_overrides_do_not() -> None:
    with pytest.raises(PolicyDocumentError, match=r"duplicate Sid \(Keep\) in source_policy_documents"):
        _doc(source_policy_documents=[SOURCE, SOURCE])
    doc = _doc(override_policy_documents=[SOURCE, SOURCE])
    assert [s.get("Sid") for s in doc["Statement"]] == ["Keep", "Replace", None, None]


def test_documents_read_from_json_are_rewritten_the_provider_way() -> None:
    src = json.dumps({"Version": "2008-10-17", "Statement": [{
        "sid": "lower", "Effect": "Allow", "Action": ["b", "a"],
        "Principal": {"AWS": ["arn:aws:iam::1:root", "arn:aws:iam::3:root", "arn:aws:iam::2:root"],
                      "Service": ["s.amazonaws.com"]},
        "NotPrincipal": "anything",
        "Condition": {"Bool": {"aws:SecureTransport": True}, "StringEquals": {"aws:PrincipalOrgID": ["o-1"]},
                      "NumericLessThan": {"s3:max-keys": 10}}}]})
    stmt = _doc(source_policy_documents=[src])["Statement"][0]
    assert stmt == {
        "Sid": "lower", "Effect": "Allow", "Action": ["b", "a"],  # an Action list is kept as written
        "Principal": {"AWS": ["arn:aws:iam::3:root", "arn:aws:iam::2:root", "arn:aws:iam::1:root"],
                      "Service": ["s.amazonaws.com"]},
        "NotPrincipal": "*",  # any string principal is read as everyone
        "Condition": {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:PrincipalOrgID": "o-1"}},
    }
    # the highest version of the merged documents wins
    assert _doc(source_policy_documents=[src], version="2008-10-17")["Version"] == "2008-10-17"
    assert _doc(source_policy_documents=[src])["Version"] == "2012-10-17"


@pytest.mark.parametrize("bad", ["not json", "[]", json.dumps({"Statement": {"Effect": "Allow"}}),
                                 json.dumps({"Statement": [{"Principal": ["*"]}]})])
def test_source_documents_the_provider_cannot_read(bad: str) -> None:
    with pytest.raises(PolicyDocumentError, match="merging source document 0"):
        _doc(source_policy_documents=[bad])


# ---------------------------------------------------------------- the result


def test_result_json_is_go_indented_minified_and_id_its_crc32() -> None:
    result = policy_document({"statements": [{"actions": ["s3:Get<Object>&"], "resources": ["*"]}]})
    assert result is not None
    assert result["json"] == textwrap.dedent("""\
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Action": "s3:Get\\u003cObject\\u003e\\u0026",
              "Resource": "*"
            }
          ]
        }""")
    assert result["minifiedJson"] == ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                                      '"Action":"s3:Get\\u003cObject\\u003e\\u0026","Resource":"*"}]}')
    assert json.loads(result["json"]) == json.loads(result["minifiedJson"])
    assert result["id"] == str(zlib.crc32(result["json"].encode()))
    assert result["version"] == "2012-10-17"


def test_unknown_argument_unknown_result_and_deprecated_json_arguments_refused() -> None:
    from pulumi.runtime import rpc

    # what the SDK's deserialize_properties gives for an unknown at preview
    assert policy_document({"statements": [{"actions": ["s3:GetObject"], "resources": [Unknown()]}]}) is None
    assert policy_document({"sourcePolicyDocuments": [Unknown()]}) is None
    with pytest.raises(PolicyDocumentError, match="sourceJson"):
        policy_document({"sourceJson": "{}"})
    secret = rpc.wrap_rpc_secret(["arn:aws:s3:::hidden/*"])
    result = policy_document({"statements": [{"actions": ["s3:GetObject"], "resources": secret}]})
    assert json.loads(result["json"])["Statement"][0]["Resource"] == "arn:aws:s3:::hidden/*"


# ---------------------------------------------------------------- through the engine

PROGRAM = """
import pulumi
import pulumi_aws as aws

bucket = aws.s3.BucketV2("site", bucket="acme-site")
role = aws.iam.Role("r", assume_role_policy="{}")
public = aws.iam.get_policy_document(statements=[{
    "sid": "Read", "actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::acme-site/*"],
    "principals": [{"type": "*", "identifiers": ["*"]}]}])
scoped = aws.iam.get_policy_document_output(statements=[aws.iam.GetPolicyDocumentStatementArgs(
    actions=["s3:GetObject"], resources=[bucket.arn.apply(lambda a: a + "/*")],
    principals=[aws.iam.GetPolicyDocumentStatementPrincipalArgs(type="AWS", identifiers=["*"])],
    conditions=[aws.iam.GetPolicyDocumentStatementConditionArgs(
        test="StringEquals", variable="aws:PrincipalOrgID", values=["o-abc123"])])])
unknown = aws.iam.get_policy_document_output(statements=[aws.iam.GetPolicyDocumentStatementArgs(
    actions=["s3:GetObject"], resources=[role.create_date])])
pulumi.export("public", public.json)
pulumi.export("scoped", scoped.minified_json)
pulumi.export("unknown", unknown.json)
"""


def _run(tmp_path: Path, text: str):
    program = tmp_path / "__main__.py"
    program.write_text(textwrap.dedent(text))
    return run_program("dev", {"aws:region": "eu-west-1"}, region="eu-west-1", project=None, program=program,
                       pulumi_project="docs")


def test_engine_answers_both_forms_and_leaves_unknown_arguments_unknown(tmp_path: Path) -> None:
    rec = _run(tmp_path, PROGRAM)
    assert json.loads(rec.outputs["public"]) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-site/*",
         "Principal": "*"}]}
    assert json.loads(rec.outputs["scoped"]) == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-site/*",
         "Principal": {"AWS": "*"}, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]}
    assert is_unknown(rec.outputs["unknown"])
    lookups = [x for x in rec.lookups if x.token == TOKEN]
    assert sorted(x.form for x in lookups) == ["output", "output", "plain"]
    known = [x for x in lookups if x.supplied]
    assert len(known) == 2 and all({"json", "minifiedJson"} <= set(x.supplied) and not x.placeholders for x in known)
    assert [x.unknown for x in lookups if not x.supplied][0] and rec.placeholder_count == 0


def test_arguments_the_provider_refuses_stop_the_run(tmp_path: Path) -> None:
    program = """
    import pulumi_aws as aws
    aws.iam.get_policy_document(statements=[{"sid": "A", "actions": ["x:y"]}, {"sid": "A", "actions": ["x:z"]}])
    """
    with pytest.raises(ProgramError, match=r"getPolicyDocument.*duplicate Sid \(A\)"):
        _run(tmp_path, program)
