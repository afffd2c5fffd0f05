"""A regional GKE cluster with its own node pool on the latest 1.33 version, a PostgreSQL Cloud SQL instance with a
database and user, and a Cloud Run service connected to the instance and open to all callers."""

import pulumi
import pulumi_gcp as gcp

config = pulumi.Config()
gcp_config = pulumi.Config("gcp")
region = gcp_config.require("region")
project = gcp_config.require("project")

versions = gcp.container.get_engine_versions(location=region, version_prefix="1.33.")
network = gcp.compute.Network("app", auto_create_subnetworks=False)
subnet = gcp.compute.Subnetwork("app", network=network.id, ip_cidr_range="10.10.0.0/20", region=region,
                                private_ip_google_access=True)

cluster = gcp.container.Cluster(
    "app",
    location=region,
    network=network.id,
    subnetwork=subnet.id,
    remove_default_node_pool=True,
    initial_node_count=1,
    min_master_version=versions.latest_master_version,
    workload_identity_config={"workload_pool": f"{project}.svc.id.goog"},
    deletion_protection=False,
)
gcp.container.NodePool(
    "general",
    cluster=cluster.name,
    location=region,
    node_count=1,
    version=versions.latest_node_version,
    node_config={"machine_type": "e2-standard-4", "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                 "workload_metadata_config": {"mode": "GKE_METADATA"}},
)

sql = gcp.sql.DatabaseInstance(
    "app",
    database_version="POSTGRES_16",
    region=region,
    settings={"tier": config.get("dbTier") or "db-f1-micro", "ip_configuration": {"ipv4_enabled": True},
              "backup_configuration": {"enabled": True}},
    deletion_protection=False,
)
db = gcp.sql.Database("app", instance=sql.name)
password = config.get_secret("dbPassword") or pulumi.Output.secret("offline-preview-only")
user = gcp.sql.User("app", instance=sql.name, password=password)

service = gcp.cloudrunv2.Service(
    "api",
    location=region,
    ingress="INGRESS_TRAFFIC_ALL",
    deletion_protection=False,
    template={
        "containers": [{
            "image": config.require("image"),
            "envs": [
                {"name": "DB_NAME", "value": db.name},
                {"name": "DB_USER", "value": user.name},
                {"name": "DB_CONNECTION", "value": sql.connection_name},
            ],
            "volume_mounts": [{"name": "cloudsql", "mount_path": "/cloudsql"}],
        }],
        "volumes": [{"name": "cloudsql", "cloud_sql_instance": {"instances": [sql.connection_name]}}],
    },
)
gcp.cloudrunv2.ServiceIamMember("public", name=service.name, location=region, role="roles/run.invoker",
                                member="allUsers")

pulumi.export("clusterEndpoint", cluster.endpoint)
pulumi.export("serviceUrl", service.uri)
pulumi.export("sqlConnection", sql.connection_name)
