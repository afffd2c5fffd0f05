"""A GCP data platform beside inference, for `inferstack policy check --program`: every compliant resource follows
CIS GCP in full; each violating one is on a line marked with the policy it breaks."""

import json

import pulumi
import pulumi_gcp as gcp

KEY = "projects/p/locations/europe-west4/keyRings/inferstack/cryptoKeys/data"
VPC = "projects/p/global/networks/inference"
GROUP = "group:ml-platform@example.com"

# ---------------------------------------------------------------- compliant
gcp.projects.IAMMember("developers", project="p", role="roles/container.developer", member=GROUP)
gcp.serviceaccount.IAMMember(
    "ci-impersonates-deployer", service_account_id="projects/p/serviceAccounts/deployer@p.iam.gserviceaccount.com",
    role="roles/iam.serviceAccountTokenCreator", member=GROUP)
gcp.projects.IAMAuditConfig("audit", project="p", service="allServices", audit_log_configs=[
    {"log_type": "ADMIN_READ"}, {"log_type": "DATA_READ"}, {"log_type": "DATA_WRITE"}])
gcp.pubsub.Topic("events", name="events", kms_key_name=KEY)
gcp.sql.DatabaseInstance(
    "vectors", database_version="POSTGRES_16", region="europe-west4", encryption_key_name=KEY, deletion_protection=True,
    settings={"tier": "db-custom-2-7680", "backup_configuration": {"enabled": True},
              "ip_configuration": {"ipv4_enabled": False, "private_network": VPC, "ssl_mode": "ENCRYPTED_ONLY"},
              "database_flags": [{"name": "log_connections", "value": "on"}, {"name": "log_disconnections", "value": "on"}]},
    opts=pulumi.ResourceOptions(protect=True))

# ---------------------------------------------------------------- violations
gcp.storage.BucketIAMMember("public-models", bucket="models", role="roles/storage.objectViewer", member="allUsers")  # violation: gcp-iam-no-public-members
gcp.projects.IAMBinding("editors", project="p", role="roles/editor", members=[GROUP])  # violation: gcp-iam-no-basic-roles
gcp.folder.IAMMember("sa-users", folder="folders/1", role="roles/iam.serviceAccountUser", member=GROUP)  # violation: gcp-iam-no-project-sa-impersonation
gcp.organizations.IAMPolicy("org", org_id="123", policy_data=json.dumps({  # violation: gcp-audit-config-complete
    "bindings": [{"role": "roles/resourcemanager.organizationViewer", "members": [GROUP]}],
    "auditConfigs": [{"service": "allServices", "auditLogConfigs": [
        {"logType": "DATA_READ", "exemptedMembers": ["user:ops@example.com"]}, {"logType": "DATA_WRITE"}]}]}))
gcp.serviceaccount.Key("deployer-key", service_account_id="deployer@p.iam.gserviceaccount.com")  # violation: gcp-no-user-managed-sa-keys
gcp.redis.Instance("cache", memory_size_gb=1, region="europe-west4", customer_managed_key=KEY)  # violation: gcp-tls-in-transit
gcp.bigquery.Dataset("features", dataset_id="features", location="europe-west4")  # violation: gcp-cmek-at-rest
gcp.compute.Instance(  # violation: gcp-vm-hardening
    "bastion", machine_type="e2-small", zone="europe-west4-a",
    boot_disk={"initialize_params": {"image": "cos-cloud/cos-stable"}, "kms_key_self_link": KEY},
    network_interfaces=[{"subnetwork": "inference", "access_configs": [{}]}],
    metadata={"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE"},
    service_account={"email": "bastion@p.iam.gserviceaccount.com", "scopes": ["cloud-platform"]})
