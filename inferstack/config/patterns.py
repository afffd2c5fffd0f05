"""The spelling of names and numbers people type: one pattern each, used by the stack config models (pydantic) and by
every other reader of the same kind of text (the registry client and CLI, rollout arguments) through
:func:`inferstack.config.bounded.checked`.

Each pattern is written so both engines read it the same way: pydantic's (Rust ``regex``: ``$`` is the end of the
text) and Python's ``re`` used with ``fullmatch`` and ``re.ASCII``. Character classes are explicit ASCII ranges
(``[0-9]``, never ``\\d``), so Arabic-Indic (``٣``), fullwidth (``３``) and other Unicode digits, Cyrillic look-alike
letters and zero-width characters never match.
"""

from __future__ import annotations

#: A model name in the registry (``inferstack registry push NAME``, ``registryModel`` in the stack config); it is a
#: path segment of the bucket's keys.
REGISTRY_MODEL_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,127}$"
#: Largest registry version: version items are keyed ``v%09d`` (lexical order is numeric order up to here).
REGISTRY_VERSION_MAX = 999_999_999
#: A registry version number (``version`` of a model, canary or adapter; ``MODEL:VERSION`` on the command line).
REGISTRY_VERSION_PATTERN = r"^[1-9][0-9]{0,8}$"
#: A registry alias (``inferstack registry promote --alias NAME``, ``MODEL@ALIAS``).
REGISTRY_ALIAS_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
#: A Karpenter duration (``consolidateAfter``, ``expireAfter``): at most 999999 of one unit, within Go's duration range.
KARPENTER_DURATION_PATTERN = r"^[0-9]{1,6}[smh]$"
#: ``expireAfter``: a Karpenter duration or ``Never``.
KARPENTER_EXPIRY_PATTERN = r"^([0-9]{1,6}[smh]|Never)$"
#: A UTC time (``2027-01-15T11:30:00Z``), in ASCII digits.
UTC_TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
#: A Google Cloud project id (``gcp:project``, ``init --project``): cloud.google.com/resource-manager/docs/creating-managing-projects
#: (6-30 characters; lowercase letters, digits and hyphens; starts with a letter; does not end with a hyphen).
GCP_PROJECT_PATTERN = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"

#: What each pattern allows, in words: the second half of every error message about it.
ALLOWED: dict[str, str] = {
    REGISTRY_MODEL_PATTERN: "a registry model name is lower-case ASCII letters, digits, '.', '_' and '-', "
    "starting with a letter or digit, at most 128 characters",
    REGISTRY_VERSION_PATTERN: f"a registry version is an integer from 1 to {REGISTRY_VERSION_MAX} in ASCII digits 0-9, "
    "without sign or leading zeros",
    REGISTRY_ALIAS_PATTERN: "an alias is lower-case ASCII letters, digits and '-', starting with a letter, "
    "at most 63 characters",
    KARPENTER_DURATION_PATTERN: "a Karpenter duration is 1 to 6 ASCII digits and a unit s, m or h (30m, 720h)",
    KARPENTER_EXPIRY_PATTERN: "a Karpenter duration is 1 to 6 ASCII digits and a unit s, m or h (720h), or Never",
    GCP_PROJECT_PATTERN: "a GCP project id is 6-30 lower-case ASCII letters, digits and hyphens, starting with a "
    "letter and not ending with a hyphen",
    UTC_TIME_PATTERN: "a UTC time is YYYY-MM-DDTHH:MM:SSZ in ASCII digits (2027-01-15T11:30:00Z)",
}
