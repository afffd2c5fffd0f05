"""AWS components: ``AwsPlatform`` (platform.py) composed of kms, network, cluster, karpenter, node_pools and device_plugins."""
