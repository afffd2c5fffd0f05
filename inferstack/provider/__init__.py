"""inferstack as a Pulumi component package, for programs in TypeScript, Go, C#, Java or YAML.

``provider/`` (``PulumiPlugin.yaml``) hosts :data:`COMPONENTS` with ``pulumi.provider.experimental``; ``pulumi package
add`` infers the package schema from their annotations and generates an SDK in the consumer's language.
:func:`package_schema` builds the same schema offline.

The components load on first use, so ``python -m inferstack.provider.generate`` runs even when ``args.py`` is stale.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = ["COMPONENTS", "PACKAGE", "AwsPlatform", "GcpPlatform", "InferenceStack", "main", "package_schema", "package_version"]

_COMPONENT_NAMES = {"COMPONENTS", "PACKAGE", "AwsPlatform", "GcpPlatform", "InferenceStack"}


def __getattr__(name: str) -> Any:
    if name in _COMPONENT_NAMES:
        from inferstack.provider import components

        return getattr(components, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def package_version() -> str:
    """Version of the package schema: the installed inferstack distribution's version."""
    try:
        return version("inferstack")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0"


def component_provider() -> Any:
    """The provider ``pulumi package add`` talks to (schema inferred when it is built)."""
    from pulumi.provider.experimental.component import ComponentProvider

    from inferstack.provider.components import COMPONENTS, PACKAGE

    return ComponentProvider(COMPONENTS, PACKAGE, version=package_version())


def package_schema() -> dict[str, Any]:
    """The package schema, as the provider's ``GetSchema`` returns it."""
    return json.loads(component_provider().schema)


def main() -> None:
    """Serve the components to the Pulumi engine (the plugin's entry point)."""
    from pulumi.provider.experimental import component_provider_host

    from inferstack.provider.components import COMPONENTS, PACKAGE

    component_provider_host(COMPONENTS, PACKAGE, version=package_version())
