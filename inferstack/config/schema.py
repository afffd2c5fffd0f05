"""JSON Schema of a ``Pulumi.<stack>.yaml`` file, generated from the config models."""

from __future__ import annotations

from typing import Any

from inferstack.config.stack import NAMESPACE, InferstackConfig, stack_key


def stack_file_schema() -> dict[str, Any]:
    """Schema for the whole stack file: ``config`` holds ``inferstack:<key>`` entries and provider keys."""
    model = InferstackConfig.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    defs = model.pop("$defs", {})
    props = {stack_key(k): v for k, v in model["properties"].items()}
    props["aws:region"] = {"type": "string", "description": "AWS region of the stack (cloud aws); must be in allowedRegions."}
    props["gcp:region"] = {"type": "string", "description": "GCP region of the stack (cloud gcp); must be in allowedRegions."}
    props["gcp:project"] = {"type": "string", "description": "Google Cloud project id (cloud gcp)."}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "inferstack stack config (stacks/Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": props,
                "required": [stack_key(k) for k in model.get("required", [])],
                # Other namespaces belong to providers and programs; unknown inferstack: keys are errors.
                "patternProperties": {f"^(?!{NAMESPACE}:)": {}},
                "additionalProperties": False,
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
        },
        "additionalProperties": False,
        "$defs": defs,
    }
