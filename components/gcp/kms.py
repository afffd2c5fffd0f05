"""The platform's customer-managed encryption key on Google Cloud, and the service agents allowed to use it.

A Cloud KMS key ring in the stack's region and one symmetric CryptoKey rotated every 90 days. The Google-managed
service agents that encrypt with it get ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on this key only: GKE
(``container-engine-robot``: etcd database encryption), Compute Engine (``compute-system``: CMEK node boot disks)
and Cloud Storage (the project's GCS service account: the model registry bucket). Secret Manager's agent is granted
by :class:`~inferstack.components.gcp.secrets.GcpSecrets`, which creates it. The key ring and key are retained on
delete and protected in prod (a deleted key makes every disk, secret and object encrypted with it unreadable).
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

#: Rotation period of the CryptoKey (90 days).
ROTATION_PERIOD = "7776000s"
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def service_agents(project_number: str) -> dict[str, str]:
    """The GKE and Compute Engine service agents of a project, by short name (IAM members)."""
    return {
        "gke": f"serviceAccount:service-{project_number}@container-engine-robot.iam.gserviceaccount.com",
        "compute": f"serviceAccount:service-{project_number}@compute-system.iam.gserviceaccount.com",
    }


class GcpKey(pulumi.ComponentResource):
    """Cloud KMS key ring + CryptoKey (90-day rotation) for one stack, usable by the GKE, Compute and GCS agents.

    Attributes: ``key_ring``, ``key`` (the CryptoKey; ``key.id`` is what CMEK fields take), ``grants``.
    """

    def __init__(
        self, name: str, stack: str, project: str, region: str, retain: bool, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("inferstack:gcp:Key", name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, retain_on_delete=retain, protect=retain)
        self.key_ring = gcp.kms.KeyRing(
            f"{name}-ring",
            name=f"inferstack-{stack}",
            location=region,
            project=project,
            opts=keep,
        )
        self.key = gcp.kms.CryptoKey(
            f"{name}-key",
            name=f"inferstack-{stack}",
            key_ring=self.key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=ROTATION_PERIOD,
            labels={"inferstack-stack": stack},
            opts=keep,
        )
        number = gcp.organizations.get_project_output(project_id=project).number
        gcs = gcp.storage.get_project_service_account_output(project=project)
        members = {k: number.apply(lambda n, k=k: service_agents(n)[k]) for k in ("gke", "compute")}
        members["gcs"] = gcs.member
        self.grants = [
            gcp.kms.CryptoKeyIAMMember(
                f"{name}-{agent}-agent",
                crypto_key_id=self.key.id,
                role=ENCRYPTER_DECRYPTER,
                member=member,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for agent, member in members.items()
        ]
        self.register_outputs({"keyId": self.key.id, "keyRingId": self.key_ring.id})
