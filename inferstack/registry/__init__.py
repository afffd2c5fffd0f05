"""The model registry: artifact layout shared by the Pulumi components, serving and the ``inferstack registry`` client."""
