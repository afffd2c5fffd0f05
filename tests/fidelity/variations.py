"""Recordings the fidelity suites walk besides the AWS ones (``aws_fidelity.RECORDINGS``): the GCP reference stacks,
the GCP example, and generated variations (every GCP region of the catalogue, every GCP accelerator kind, and the
longest names the config accepts, on both clouds).

The long-name variations are found, not written down: for each name people type (stack, pool, namespace, model,
secret) the longest name ``load_stack`` still accepts, with every reference to it renamed too. So when a component
derives a new name from one of them and the config does not check it, a test walking these recordings fails."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from typing import Any

from inferstack.catalog.accelerators import CATALOG, kinds_for
from inferstack.catalog.clouds import Cloud
from inferstack.config import ConfigError, read_stack_file
from inferstack.engine import Recording, run_program, run_stack
from inferstack.load import load_stack
from tests.fidelity.aws_fidelity import EXAMPLES_DIR, LONG_STACK_NAME, STACKS_DIR

Config = dict[str, Any]


def stack_values(name: str) -> tuple[str, Config, frozenset[str]]:
    f = read_stack_file(STACKS_DIR / f"Pulumi.{name}.yaml")
    return f.stack, copy.deepcopy(dict(f.config)), frozenset(f.secret_keys)


def run(stack: str, config: Config, secret_keys: frozenset[str]) -> Recording:
    return run_stack(load_stack(stack, config, secret_keys=secret_keys))


def example(name: str) -> Recording:
    d = EXAMPLES_DIR / name
    f = read_stack_file(d / "Pulumi.prod.yaml")
    region_key = "aws:region" if "aws:region" in f.config else "gcp:region"
    return run_program(
        f.stack,
        dict(f.config),
        region=f.config[region_key],
        project=f.config.get("gcp:project"),
        program=d / "__main__.py",
        secret_keys=f.secret_keys,
    )


# ------------------------------------------------------------------ GCP variations


def gcp_regions() -> list[str]:
    """Every region the catalogue offers one of gcp-prod's accelerator kinds in (gcp-prod moves there with those pools)."""
    _, config, _ = stack_values("gcp-prod")
    kinds = {p["kind"] for p in config.get("inferstack:acceleratorPools", [])}
    return sorted({r for kind in kinds for r in CATALOG[kind].gcp_regions})


def stack_in_region(name: str, region_key: str, region: str, offered: Callable[[str], bool]) -> tuple[str, Config, frozenset[str]]:
    """Stack ``name`` moved to ``region``: residency allowing it, pools of kinds ``offered(kind)`` there (reserved
    rungs dropped: reservations are zonal) and their models."""
    stack, config, secrets = stack_values(name)
    config[region_key] = region
    config["inferstack:residency"] = {"allowedRegions": [region]}
    pools = [p for p in config.get("inferstack:acceleratorPools", []) if offered(p["kind"])]
    for pool in pools:
        ladder = [t for t in pool.get("ladder", []) if t.get("tier") != "reserved"]
        if ladder:
            pool["ladder"] = ladder
        else:
            pool.pop("ladder", None)
    names = {p["name"] for p in pools}
    assert names, f"no pool of {name} is offered in {region}"
    config["inferstack:acceleratorPools"] = pools
    config["inferstack:models"] = [m for m in config.get("inferstack:models", []) if m.get("pool") in names]
    return stack, config, secrets


def gcp_in_region(region: str) -> Recording:
    """gcp-prod moved to ``region`` with the pools of kinds offered there (:func:`stack_in_region`)."""
    return run(*stack_in_region("gcp-prod", "gcp:region", region, lambda kind: region in CATALOG[kind].gcp_regions))


def every_gcp_kind() -> Recording:
    """gcp-prod with one pool of every GCP accelerator kind (in a region offering it) and no models."""
    stack, config, secrets = stack_values("gcp-prod")
    region = config["gcp:region"]
    pools = []
    for i, kind in enumerate(kinds_for(Cloud.GCP)):
        if region in CATALOG[kind].gcp_regions:
            pools.append({"name": f"p{i}", "kind": kind, "capacity": "spot-first", "onDemandBaseline": 1, "maxNodes": 4})
    config["inferstack:acceleratorPools"] = pools
    config["inferstack:models"] = []
    config.pop("inferstack:secrets", None)
    return run(stack, config, secrets)


def kinds_in(rec: Recording) -> set[str]:
    return {
        r.inputs["nodeConfig"]["labels"]["inferstack.io/accelerator"]
        for r in rec.resources
        if r.type == "gcp:container/nodePool:NodePool" and "inferstack.io/accelerator" in r.inputs["nodeConfig"].get("labels", {})
    }


# ------------------------------------------------------------------ the longest accepted names


def _accepts(stack: str, config: Config, secrets: frozenset[str]) -> ConfigError | None:
    try:
        load_stack(stack, config, secret_keys=secrets)
    except ConfigError as err:
        return err
    return None


def _name(seed: str, length: int) -> str:
    """A name of exactly ``length`` characters: ``seed``, then letters (lower-case, ends alphanumeric)."""
    return (seed + "-" + "abcdefghijklmnopqrstuvwxyz" * 10)[:length].rstrip("-").ljust(length, "x")


def rename_pool(config: Config, old: str, new: str) -> None:
    for p in config.get("inferstack:acceleratorPools", []):
        if p["name"] == old:
            p["name"] = new
    for m in config.get("inferstack:models", []):
        if m.get("pool") == old:
            m["pool"] = new


def rename_namespace(config: Config, old: str, new: str) -> None:
    for m in config.get("inferstack:models", []):
        if m.get("namespace") == old:
            m["namespace"] = new
    for s in config.get("inferstack:secrets", []):
        s["namespaces"] = [new if n == old else n for n in s.get("namespaces", [])]
    if "inferstack:teamNamespaces" in config:
        config["inferstack:teamNamespaces"] = [new if n == old else n for n in config["inferstack:teamNamespaces"]]


def rename_model(config: Config, old: str, new: str) -> None:
    for m in config.get("inferstack:models", []):
        if m["name"] == old:
            m["name"] = new


def rename_secret(config: Config, old: str, new: str) -> None:
    for s in config.get("inferstack:secrets", []):
        if s["name"] == old:
            s["name"] = new


@functools.cache
def longest_names(base: str, models_first: bool = False) -> tuple[str, Config, frozenset[str], tuple[tuple[str, str, str, ConfigError], ...]]:
    """``base`` with the longest stack name the config accepts (at most 32 characters), then, one after another, every pool, namespace, model
    and secret renamed to the longest name the config still accepts (models before namespaces with ``models_first``:
    they share the 63 characters of the predictor's host label). Also returns, per renamed thing, the error one
    more character gives: (what, accepted name, key, error)."""
    stack, config, secrets = stack_values(base)
    refusals = []
    for length in range(len(stack) + 1, len(LONG_STACK_NAME) + 2):
        candidate = _name(base, length)
        err = _accepts(candidate, config, secrets)
        if err is not None:
            refusals.append(("stack", stack, candidate, err))
            break
        stack = candidate

    def things() -> Iterator[tuple[str, str, Callable[[Config, str, str], None]]]:
        for p in config.get("inferstack:acceleratorPools", []):
            yield "pool", p["name"], rename_pool
        models = [("model", m["name"], rename_model) for m in config.get("inferstack:models", [])]
        namespaces = [
            ("namespace", ns, rename_namespace)
            for ns in sorted({m["namespace"] for m in config.get("inferstack:models", [])})
        ]
        yield from (models + namespaces) if models_first else (namespaces + models)
        for s in config.get("inferstack:secrets", []):
            yield "secret", s["name"], rename_secret

    for what, current, rename in list(things()):
        best, refused = current, None
        for length in range(len(current) + 1, 80):
            trial = copy.deepcopy(config)
            candidate = _name(current, length)
            rename(trial, current, candidate)
            err = _accepts(stack, trial, secrets)
            if err is not None:
                refused = (candidate, err)
                break
            best = candidate
        assert refused is not None, f"{what} {current}: the config accepted an 80-character name"
        rename(config, current, best)
        refusals.append((what, best, refused[0], refused[1]))
    return stack, config, secrets, tuple(refusals)


def long_names(base: str, models_first: bool = False) -> Recording:
    stack, config, secrets, _ = longest_names(base, models_first)
    return run(stack, config, secrets)


GCP_RECORDINGS: dict[str, Callable[[], Recording]] = {
    "stack-gcp-dev": lambda: run(*stack_values("gcp-dev")),
    "stack-gcp-prod": lambda: run(*stack_values("gcp-prod")),
    "example-gke-tpu-serving": lambda: example("gke-tpu-serving"),
    **{f"gcp-prod@{r}": functools.partial(gcp_in_region, r) for r in gcp_regions() if r != "europe-west4"},
    "every-gcp-accelerator-kind": every_gcp_kind,
    "longest-names-gcp": lambda: long_names("gcp-prod"),
    "longest-model-names-gcp": lambda: long_names("gcp-prod", models_first=True),
}

#: Variations on AWS the Kubernetes name walker adds to aws_fidelity.RECORDINGS.
AWS_EXTRA_RECORDINGS: dict[str, Callable[[], Recording]] = {
    "longest-names-aws": lambda: long_names("prod"),
    "longest-model-names-aws": lambda: long_names("prod", models_first=True),
}


@functools.cache
def gcp_recording(key: str) -> Recording:
    return {**GCP_RECORDINGS, **AWS_EXTRA_RECORDINGS}[key]()
