"""End-to-end tests against real tools: a real Kubernetes API server and the real Pulumi CLI (make e2e)."""
