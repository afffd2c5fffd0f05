"""The model registry on Google Cloud: a GCS bucket for artifacts and version metadata.

Bucket: in the stack's region, CMEK with the platform key (whose policy must let the Cloud Storage service agent
encrypt/decrypt),
uniform bucket-level access, public access prevention enforced, object versioning, noncurrent versions deleted
after ``registry.noncurrentVersionDays``; retained on delete in prod. Version metadata lives in the same bucket
under ``_registry/`` and is written with generation preconditions (``ifGenerationMatch``), so allocation is
atomic without another store. Identities: a reader Google service account bound through Workload Identity to the
``inferstack-serving`` service account of every namespace with models (objectViewer on this bucket only), and a
writer service account for CI (objectUser on this bucket only) that ``registry.writerPrincipals`` may impersonate.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from inferstack.checks.names import gcs_bucket_name
from inferstack.components.gcp.identity import account_id, bind_workload_identity
from inferstack.components.platform import SERVING_SERVICE_ACCOUNT, PlatformOutputs, RegistryOutputs
from inferstack.config import RegistryArgs


class GcpRegistry(pulumi.ComponentResource):
    """Model registry on Google Cloud: a GCS bucket, a Workload Identity reader for serving, and a CI writer.

    Provisions a GCS bucket ``<project>-<stack>-models`` in ``args.region`` (uniform bucket-level access, public
    access prevention enforced, versioning, CMEK with the platform key, noncurrent versions deleted after
    ``registry.noncurrentVersionDays``); a reader Google service account bound with
    ``roles/iam.workloadIdentityUser`` to ``<project>.svc.id.goog[<ns>/inferstack-serving]`` for each namespace
    with models, holding ``roles/storage.objectViewer`` on this bucket; a writer service account holding
    ``roles/storage.objectUser`` on this bucket, which each of ``registry.writerPrincipals`` may impersonate
    (``roles/iam.serviceAccountTokenCreator``).

    Args:
        name (str): component name; children are ``<name>-models``, ``<name>-model-reader``, ``<name>-model-writer``, ...
        args (RegistryArgs): uses ``args.project``, ``args.region``, ``registry``
            (``noncurrentVersionDays`` default 90, ``writerPrincipals`` default [], ``forceDestroy`` default False)
            and ``team_namespaces`` (whose predictors may read).
        platform (PlatformOutputs): the platform's key (``kms_key``), workload pool and ``encryption_ready``.
        opts (pulumi.ResourceOptions | None, default None): options of the component.

    Outputs:
        outputs (RegistryOutputs): ``scheme`` ``gs``, ``bucket``, ``reader_identity`` (reader email) for serving.
        bucket (gcp.storage.Bucket), reader, writer (gcp.serviceaccount.Account).
        Registered outputs: ``bucket``, ``readerEmail``, ``writerEmail``.

    Secure choices:
        - CMEK, no ACLs, no public access; the bucket waits for the platform's key grants (``encryption_ready``);
        - roles granted on this bucket only, never project-wide; the reader is usable only from the serving
          service accounts of the namespaces with models;
        - in prod the bucket is protected and retained on delete and ``forceDestroy`` is ignored.
    """

    def __init__(self, name: str, args: RegistryArgs, platform: PlatformOutputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("inferstack:registry:GcpRegistry", name, None, opts)
        reg = args.registry
        project = str(args.project)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = gcp.storage.Bucket(
            f"{name}-models",
            name=gcs_bucket_name(project, args.stack),
            project=project,
            location=args.region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            encryption={"default_kms_key_name": platform.kms_key},
            lifecycle_rules=[
                {
                    "action": {"type": "Delete"},
                    "condition": {"days_since_noncurrent_time": reg.noncurrent_version_days, "with_state": "ARCHIVED"},
                }
            ],
            force_destroy=reg.force_destroy and not args.is_prod,
            labels={"inferstack-stack": args.stack, "inferstack-role": "model-registry"},
            opts=pulumi.ResourceOptions(
                parent=self, retain_on_delete=args.is_prod, protect=args.is_prod, depends_on=platform.encryption_ready
            ),
        )

        pool = platform.identity.workload_pool or f"{project}.svc.id.goog"
        namespaces = args.team_namespaces
        self.reader = gcp.serviceaccount.Account(
            f"{name}-model-reader",
            account_id=account_id(args.stack, "model-reader"),
            display_name="inferstack model registry reader (KServe predictors)",
            project=project,
            opts=child,
        )
        for ns in namespaces:
            bind_workload_identity(f"{name}-model-reader-wi-{ns}", self.reader, pool, ns, SERVING_SERVICE_ACCOUNT)
        gcp.storage.BucketIAMMember(
            f"{name}-model-reader-objects",
            bucket=self.bucket.name,
            role="roles/storage.objectViewer",
            member=self.reader.member,
            opts=pulumi.ResourceOptions(parent=self.reader),
        )

        self.writer = gcp.serviceaccount.Account(
            f"{name}-model-writer",
            account_id=account_id(args.stack, "model-writer"),
            display_name="inferstack model registry writer (CI)",
            project=project,
            opts=child,
        )
        gcp.storage.BucketIAMMember(
            f"{name}-model-writer-objects",
            bucket=self.bucket.name,
            role="roles/storage.objectUser",
            member=self.writer.member,
            opts=pulumi.ResourceOptions(parent=self.writer),
        )
        for i, principal in enumerate(sorted(reg.writer_principals)):
            gcp.serviceaccount.IAMMember(
                f"{name}-model-writer-impersonate-{i}",
                service_account_id=self.writer.name,
                role="roles/iam.serviceAccountTokenCreator",
                member=principal,
                opts=pulumi.ResourceOptions(parent=self.writer),
            )

        self.outputs = RegistryOutputs(scheme="gs", bucket=self.bucket.name, reader_identity=self.reader.email)
        self.register_outputs({"bucket": self.bucket.name, "readerEmail": self.reader.email, "writerEmail": self.writer.email})
