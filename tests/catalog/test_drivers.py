"""The driver and runtime catalogue: an expectation for every accelerator family each cloud offers, label values
Kubernetes accepts, and the versions pinned elsewhere (node image alias, GKE driver) read from one place."""

from __future__ import annotations

import re

import pytest

from inferstack.catalog.accelerators import CATALOG
from inferstack.catalog.clouds import Cloud
from inferstack.catalog.drivers import DRIVER_LABELS, EXPECTATIONS, driver_labels, expectation, label_value
from inferstack.catalog.versions import EKS_AL2023_AMI_ALIAS, GKE_GPU_DRIVER_VERSION

#: A Kubernetes label value: at most 63 characters, alphanumeric at both ends, [-_.A-Za-z0-9] between.
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@pytest.mark.parametrize("cloud", list(Cloud))
def test_every_offered_kind_has_an_expectation(cloud: Cloud) -> None:
    for kind, acc in CATALOG.items():
        if acc.shapes(cloud):
            exp = expectation(cloud, kind)
            assert exp is not None and exp.cloud is cloud and exp.family is acc.family, kind
            labels = driver_labels(cloud, kind)
            assert set(labels) == set(DRIVER_LABELS)
            assert all(len(v) <= 63 and LABEL_VALUE.match(v) for v in labels.values()), labels


def test_expectations_follow_the_pins() -> None:
    for (cloud, _), exp in EXPECTATIONS.items():
        if cloud is Cloud.AWS:
            assert exp.node_image == EKS_AL2023_AMI_ALIAS
        assert exp.source and exp.observed
    assert expectation(Cloud.GCP, "nvidia-l4").observed == (("gpu_driver_version", GKE_GPU_DRIVER_VERSION),)
    assert expectation(Cloud.AWS, "nvidia-l4").cuda == "13.0"
    assert expectation(Cloud.AWS, "no-such-kind") is None and driver_labels(Cloud.AWS, "no-such-kind") == {}


def test_label_value_sanitises() -> None:
    assert label_value("al2023@v20260903") == "al2023-v20260903"
    assert label_value("-x" * 40) == ("-x" * 40)[1:63].strip("-")
    assert LABEL_VALUE.match(label_value("a b/c:d."))
