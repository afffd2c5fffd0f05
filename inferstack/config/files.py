"""Reading ``Pulumi.<stack>.yaml`` files: the config values and which keys are secure, before any validation.

The file is read with :func:`inferstack.config.yaml_data.load_yaml_data` (UTF-8 only, bounded size, depth and
alias expansion, JSON types only, duplicate keys refused), so every command that reads a stack file fails the
same way on hostile input: one ``error:`` line naming the file, exit 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferstack.config.stack import ConfigError, file_issue
from inferstack.config.yaml_data import MAX_BYTES, YamlDataError, decode_text, load_yaml_data


@dataclass(frozen=True)
class StackFile:
    """A ``Pulumi.<stack>.yaml`` file as read from disk: config values and which keys are secure."""

    path: Path
    stack: str
    config: dict[str, Any]
    secret_keys: frozenset[str]


def read_yaml_file(path: Path) -> Any:
    """The YAML document of ``path`` as plain data; YamlDataError when it is missing, unreadable or unsafe."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise YamlDataError("no such file") from None
    except IsADirectoryError:
        raise YamlDataError("is a directory, not a stack file") from None
    except OSError as err:
        raise YamlDataError(f"cannot read: {err.strerror}") from None
    return load_yaml_data(decode_text(data))


def read_stack_file(path: str | Path) -> StackFile:
    """Read ``Pulumi.<name>.yaml``; the stack name comes from the file name. Raises ConfigError on unreadable YAML."""
    p = Path(path)
    name = p.name
    if not (name.startswith("Pulumi.") and name.endswith((".yaml", ".yml"))) or name.count(".") < 2:
        raise ConfigError(str(p), [file_issue("file", "stack config files are named Pulumi.<stack>.yaml")])
    stack = name[len("Pulumi.") : name.rindex(".")]
    try:
        doc = read_yaml_file(p)
    except YamlDataError as err:
        raise ConfigError(str(p), [file_issue("file", str(err))]) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(str(p), [file_issue("file", "expected a mapping with a 'config' key")])
    extra = sorted(set(doc) - {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"})
    if extra:
        raise ConfigError(str(p), [file_issue(k, "unknown top-level key; allowed: config, secretsprovider, encryptedkey, encryptionsalt, environment") for k in extra])
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(str(p), [file_issue("config", "expected a mapping of namespace:key to values")])
    secret_keys = set()
    values: dict[str, Any] = {}
    for key, value in config.items():
        if ":" not in str(key):
            raise ConfigError(str(p), [file_issue(str(key), "config keys are namespaced, e.g. inferstack:cloud or aws:region")])
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(key)
        values[str(key)] = value
    return StackFile(path=p, stack=stack, config=values, secret_keys=frozenset(secret_keys))
