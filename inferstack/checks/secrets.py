"""Checks of the secrets delivered into team namespaces: unique names, values only from secure config."""

from __future__ import annotations

from collections.abc import Iterable

from inferstack.config.stack import ConfigIssue, StackConfig


def check_secrets(cfg: StackConfig) -> Iterable[ConfigIssue]:
    """Secret names are unique; each ``valueFrom`` is a config key of the stack set as a secret (never plaintext); a
    stack on an existing cluster has no ``valueFrom`` (the cluster's own store holds the values)."""
    seen: set[str] = set()
    for i, s in enumerate(cfg.settings.secrets):
        loc = ("secrets", i)
        if s.name in seen:
            yield ConfigIssue((*loc, "name"), f"duplicate secret name {s.name!r}; secret names must be unique")
        seen.add(s.name)
        if s.value_from is None:
            if cfg.settings.existing_cluster is None:
                yield ConfigIssue((*loc, "valueFrom"), "required: the secure config key holding the value, e.g. inferstack-secrets:hfToken")
        elif cfg.settings.existing_cluster is not None:
            yield ConfigIssue(
                (*loc, "valueFrom"),
                "not used with existingCluster: the value is read from the cluster's store (existingCluster.secretStore, entry "
                f"inferstack/{cfg.name}/{s.name}); remove valueFrom",
            )
        elif s.value_from.startswith("inferstack:"):
            yield ConfigIssue(
                (*loc, "valueFrom"),
                f"{s.value_from!r} is in the inferstack: namespace (typed settings); use another namespace, e.g. inferstack-secrets:hfToken",
            )
        elif s.value_from not in cfg.values:
            yield ConfigIssue(
                (*loc, "valueFrom"), f"config key {s.value_from!r} is not set; run: pulumi config set --secret {s.value_from} <value>"
            )
        elif s.value_from not in cfg.secret_keys:
            yield ConfigIssue(
                (*loc, "valueFrom"),
                f"config key {s.value_from!r} is plaintext; secret values must be set with: pulumi config set --secret {s.value_from} <value>",
            )
        if len(set(s.namespaces)) != len(s.namespaces):
            yield ConfigIssue((*loc, "namespaces"), "duplicate namespace")
