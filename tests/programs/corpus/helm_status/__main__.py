"""A Redis Helm release; the application's config map and the exported endpoint are built from the release's
status (name, namespace), which the Helm provider computes when it installs the release."""

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
namespace = config.get("namespace") or "default"
replicas = config.get_int("replicas") or 1

ns = k8s.core.v1.Namespace("cache", metadata={"name": namespace})

redis = k8s.helm.v3.Release(
    "redis",
    chart="redis",
    version="19.6.4",
    namespace=ns.metadata.name,
    repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo="https://charts.bitnami.com/bitnami"),
    values={"architecture": "replication", "replica": {"replicaCount": replicas}, "auth": {"enabled": False}},
)

leader = pulumi.Output.concat(redis.status.name, "-master.", redis.status.namespace, ".svc.cluster.local")
followers = pulumi.Output.all(redis.status.name, redis.status.namespace).apply(
    lambda args: f"{args[0]}-replicas.{args[1]}.svc.cluster.local"
)

app_config = k8s.core.v1.ConfigMap(
    "app-config",
    metadata={"namespace": ns.metadata.name},
    data={"REDIS_LEADER": leader, "REDIS_FOLLOWERS": followers, "REDIS_PORT": "6379"},
)

k8s.apps.v1.Deployment(
    "app",
    metadata={"namespace": ns.metadata.name},
    spec={
        "replicas": 1,
        "selector": {"matchLabels": {"app": "app"}},
        "template": {
            "metadata": {"labels": {"app": "app"}},
            "spec": {"containers": [{
                "name": "app",
                "image": "ghcr.io/example/app:1.4.2",
                "envFrom": [{"configMapRef": {"name": app_config.metadata.name}}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            }]},
        },
    },
)

pulumi.export("redisLeader", leader)
pulumi.export("redisRevision", redis.status.revision)
pulumi.export("releaseChart", redis.chart)
