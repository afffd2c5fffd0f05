"""Loading a stack: parse, derive, check. Every entry point builds its :class:`StackConfig` here.

``pulumi up`` and the offline engine (through the program's :func:`load_config`), every CLI command and the
component package call :func:`load_stack` (or :func:`load_stack_file`); nothing is declared before it succeeds.

1. **parse** (``inferstack.config.parse_stack``): pydantic models, unknown keys, region and project;
2. **derive** (:func:`derive`): replica counts a model's ``capacity`` plan implies (``inferstack.sizing``);
3. **check** (``inferstack.checks.run_checks``): the cross-field rules.

Each step raises :class:`ConfigError` naming every bad key it finds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from inferstack.checks import run_checks, run_notices
from inferstack.config import ConfigError, StackConfig, parse_stack, read_stack_file
from inferstack.sizing import derive_replicas


def derive(cfg: StackConfig) -> StackConfig:
    """``cfg`` with what its settings imply filled in: each model's replicas from its capacity plan."""
    models = [derive_replicas(m) for m in cfg.settings.models]
    if all(new is old for new, old in zip(models, cfg.settings.models, strict=True)):
        return cfg
    return dataclasses.replace(cfg, settings=cfg.settings.model_copy(update={"models": models}))


def prepare(cfg: StackConfig, source: str | None = None) -> StackConfig:
    """Derive and check a parsed stack; raises :class:`ConfigError` with every issue."""
    cfg = derive(cfg)
    issues = run_checks(cfg)
    if issues:
        raise ConfigError(source or f"stack {cfg.name}", issues)
    warnings = tuple(run_notices(cfg))
    return dataclasses.replace(cfg, warnings=warnings) if warnings else cfg


def load_stack(
    stack: str, config: Mapping[str, Any], source: str | None = None, secret_keys: Iterable[str] = ()
) -> StackConfig:
    """The checked stack ``stack`` from its config values (``namespace:key`` -> value, as Pulumi passes them)."""
    source = source or f"stack {stack}"
    return prepare(parse_stack(stack, config, source=source, secret_keys=secret_keys), source)


def load_stack_file(path: str | Path) -> StackConfig:
    """Read, parse, derive and check a ``Pulumi.<stack>.yaml`` file."""
    f = read_stack_file(path)
    return load_stack(f.stack, f.config, source=str(f.path), secret_keys=f.secret_keys)


def config_values() -> tuple[dict[str, Any], set[str]]:
    """``(values, secret_keys)``: ``values`` maps every config key Pulumi passes the running program, whole
    (``inferstack:models``, ``aws:region``, ``team-serving:platformStack``), to its value as a string (objects and
    lists JSON-encoded, secrets decrypted); ``secret_keys`` is the set of those keys whose values are secret.

    ``parse_stack`` / ``load_stack`` take both as they are (``secret_keys=``), decode the JSON and keep the secrets
    secret outputs.
    """
    # Imported here: only a running program needs the Pulumi SDK; CLI commands that load stack files do not.
    from pulumi.runtime import config as pconfig

    values = dict(pconfig.get_config_env())
    values.update(pconfig.CONFIG.get())
    secret_keys = set(pconfig.get_config_secret_keys_env()) | {k for k in values if pconfig.is_config_secret(k)}
    return values, secret_keys


def load_config() -> StackConfig:
    """The running program's stack (``pulumi up`` or the offline engine), loaded: parsed, derived, checked."""
    from pulumi import get_stack

    values, secret_keys = config_values()
    return load_stack(get_stack(), values, secret_keys=secret_keys)
