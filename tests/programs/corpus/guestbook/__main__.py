"""The guestbook: a Redis leader, Redis replicas and a PHP frontend, each a Deployment and a Service built by one
helper; the frontend is a LoadBalancer unless the cluster is minikube, and its address is exported."""

import pulumi
import pulumi_kubernetes as k8s

is_minikube = pulumi.Config().get_bool("isMinikube") or False


def app(name: str, image: str, replicas: int, port: int, service_type: str = "ClusterIP", env=None):
    labels = {"app": "guestbook", "tier": name}
    deployment = k8s.apps.v1.Deployment(
        name,
        spec={
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "name": name,
                    "image": image,
                    "ports": [{"containerPort": port}],
                    "env": env or [],
                    "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}},
                }]},
            },
        },
    )
    service = k8s.core.v1.Service(
        name,
        metadata={"name": name, "labels": labels},
        spec={"type": service_type, "ports": [{"port": port, "targetPort": port}], "selector": labels},
        opts=pulumi.ResourceOptions(depends_on=[deployment]),
    )
    return deployment, service


app("redis-leader", "redis:7.4.1", 1, 6379)
app("redis-replica", "gcr.io/google_samples/gb-redis-follower:v2", 2, 6379)
_, frontend = app(
    "frontend", "gcr.io/google_samples/gb-frontend:v5", 3, 80,
    service_type="ClusterIP" if is_minikube else "LoadBalancer",
    env=[{"name": "GET_HOSTS_FROM", "value": "dns"}],
)

if is_minikube:
    pulumi.export("frontendIp", frontend.spec.cluster_ip)
else:
    ingress = frontend.status.load_balancer.ingress[0]
    pulumi.export("frontendIp", ingress.apply(lambda i: i.ip or i.hostname))
