"""A database password read with ``require_secret``: it reaches the RDS instance and a Kubernetes Secret still marked
secret, and the exported connection string stays secret."""

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

config = pulumi.Config()
user = config.require("dbUser")
password = config.require_secret("dbPassword")

db = aws.rds.Instance(
    "app-db",
    engine="postgres",
    engine_version="16.4",
    instance_class="db.t4g.micro",
    allocated_storage=20,
    db_name="app",
    username=user,
    password=password,
    storage_encrypted=True,
    skip_final_snapshot=True,
)

url = pulumi.Output.format("postgresql://{0}:{1}@{2}/app", user, password, db.address)

k8s.core.v1.Secret(
    "db",
    metadata={"namespace": "default"},
    string_data={"DATABASE_URL": url, "PASSWORD": password},
)

pulumi.export("databaseUrl", url)
pulumi.export("passwordLength", password.apply(len))
