"""Plain Kubernetes YAML: a namespace declared in code, a ConfigGroup of inline YAML and objects and a ConfigFile of
the manifests next to the program (yaml.v2: remote components, the engine does not see inside them), and a
yaml (v1) ConfigGroup, which the SDK expands into its objects in the program itself."""

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

namespace = pulumi.Config().get("namespace") or "tools"
ns = k8s.core.v1.Namespace("tools", metadata={"name": namespace})
after_ns = pulumi.ResourceOptions(depends_on=[ns])

settings = k8s.yaml.v2.ConfigGroup(
    "settings",
    yaml=f"""
apiVersion: v1
kind: ConfigMap
metadata:
  name: exporter-settings
  namespace: {namespace}
data:
  collectors: cpu,meminfo,filesystem
""",
    objs=[{
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "exporter", "namespace": namespace},
        "spec": {"selector": {"app": "exporter"}, "ports": [{"port": 9100, "targetPort": 9100}]},
    }],
    opts=after_ns,
)

exporter = k8s.yaml.v2.ConfigFile(
    "exporter",
    file=str(Path(__file__).parent / "manifests.yaml"),
    opts=after_ns,
)

policies = k8s.yaml.ConfigGroup(
    "default-deny",
    yaml=[f"""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: {namespace}
spec:
  podSelector: {{}}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-scrape
  namespace: {namespace}
spec:
  podSelector:
    matchLabels:
      app: exporter
  ingress:
    - ports:
        - port: 9100
"""],
    opts=after_ns,
)

pulumi.export("namespace", ns.metadata.name)
pulumi.export("resources", exporter.resources)
