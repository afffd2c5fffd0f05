"""A vLLM OpenAI-compatible server: a namespace, the Hugging Face token as a Secret, a volume for the model cache,
a GPU Deployment with probes, and a Service; the served model and URL are exported."""

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
model = config.require("model")
gpus = config.get_int("gpus") or 1
token = config.require_secret("hfToken")

ns = k8s.core.v1.Namespace("llm", metadata={"name": "llm"})
in_ns = {"namespace": ns.metadata.name}

secret = k8s.core.v1.Secret("hf-token", metadata=in_ns, string_data={"token": token})
cache = k8s.core.v1.PersistentVolumeClaim(
    "model-cache",
    metadata=in_ns,
    spec={"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Gi"}}},
)

labels = {"app": "vllm"}
server = k8s.apps.v1.Deployment(
    "vllm",
    metadata=in_ns,
    spec={
        "replicas": 1,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "containers": [{
                    "name": "vllm",
                    "image": "vllm/vllm-openai:v0.6.4",
                    "args": ["--model", model, "--port", "8000", "--max-model-len", "8192"],
                    "env": [{"name": "HUGGING_FACE_HUB_TOKEN",
                             "valueFrom": {"secretKeyRef": {"name": secret.metadata.name, "key": "token"}}}],
                    "ports": [{"containerPort": 8000, "name": "http"}],
                    "resources": {"requests": {"cpu": "4", "memory": "24Gi", "nvidia.com/gpu": str(gpus)},
                                  "limits": {"memory": "24Gi", "nvidia.com/gpu": str(gpus)}},
                    "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}, "periodSeconds": 10},
                    "volumeMounts": [{"name": "cache", "mountPath": "/root/.cache/huggingface"},
                                     {"name": "shm", "mountPath": "/dev/shm"}],
                }],
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                "volumes": [
                    {"name": "cache", "persistentVolumeClaim": {"claimName": cache.metadata.name}},
                    {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}},
                ],
            },
        },
    },
)
service = k8s.core.v1.Service(
    "vllm",
    metadata=in_ns,
    spec={"selector": labels, "ports": [{"port": 80, "targetPort": 8000, "name": "http"}]},
)

pulumi.export("model", model)
pulumi.export("url", pulumi.Output.concat("http://", service.metadata.name, ".", ns.metadata.name, ".svc/v1"))
pulumi.export("readyReplicas", server.status.ready_replicas)
