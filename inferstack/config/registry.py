"""Config of the model registry and the secret store."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from inferstack.config.base import StrictModel
from inferstack.config.serving import NAMESPACE_PATTERN


class RegistryConfig(StrictModel):
    """The model registry: a versioned, CMK-encrypted bucket plus version metadata."""

    noncurrent_version_days: int = Field(90, ge=1, le=3650, description="Days a noncurrent object version is kept.")
    writer_principals: list[str] = Field(
        default_factory=list,
        description=(
            "Principals (CI roles / service accounts) allowed to push models: AWS an IAM principal ARN "
            "(arn:aws:iam::<account>:role/..., user/..., root) or a 12-digit account id; GCP an IAM member with its prefix "
            "(user:, group:, serviceAccount:, domain:, principal://, principalSet://)."
        ),
    )
    force_destroy: bool = Field(False, description="Allow deleting a non-empty bucket (dev only).")


class SecretConfig(StrictModel):
    """A secret kept in the cloud's secret store and delivered into team namespaces by External Secrets Operator.

    Its value never appears in the stack file in clear: it comes only from the secure Pulumi config key ``valueFrom``.
    """

    name: str = Field(
        description="Secret name: the store entry inferstack/<stack>/<name> and the Kubernetes Secret in each namespace.",
        pattern=r"^[a-z][a-z0-9-]{0,40}[a-z0-9]$",
    )
    namespaces: list[Annotated[str, StringConstraints(pattern=NAMESPACE_PATTERN)]] = Field(
        min_length=1, description="Team namespaces that receive the secret."
    )
    key: str = Field("token", description="Key of the value inside the Kubernetes Secret, e.g. HF_TOKEN.", pattern=r"^[-._a-zA-Z0-9]+$")
    value_from: str | None = Field(
        None,
        description=(
            "Pulumi config key holding the initial value, set with `pulumi config set --secret`, e.g. inferstack-secrets:hfToken; "
            "required unless the stack targets an existing cluster (whose own store holds the value)."
        ),
        pattern=r"^[a-zA-Z0-9_-]+:[a-zA-Z0-9_.-]+$",
    )
    refresh_interval: str = Field("1h", description="How often External Secrets re-reads the store.", pattern=r"^[0-9]+[smh]$")
