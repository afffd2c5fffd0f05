"""A workload stack that deploys onto the cluster another stack created: the kubeconfig, cluster name and namespace
come from that stack's outputs (``pulumi.StackReference``)."""

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
platform = pulumi.StackReference("platform", stack_name=config.require("platformStack"))

provider = k8s.Provider("platform", kubeconfig=platform.require_output("kubeconfig"))
opts = pulumi.ResourceOptions(provider=provider)
namespace = platform.get_output("appNamespace")

k8s.apps.v1.Deployment(
    "web",
    metadata={"namespace": namespace, "labels": {"app": "web"}},
    spec={
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{
                "name": "web",
                "image": "nginx:1.27.3",
                "ports": [{"containerPort": 80}],
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
            }]},
        },
    },
    opts=opts,
)
k8s.core.v1.Service(
    "web",
    metadata={"namespace": namespace},
    spec={"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}], "type": "ClusterIP"},
    opts=opts,
)

pulumi.export("cluster", platform.get_output("clusterName"))
