"""Derive the skeleton of Etsy's OpenAPI document: its structure, none of its prose.

Etsy's document is third-party text and stays out of the repository, but the emulator is checked against it.
The skeleton keeps what a check needs: per operation its path, method, operationId, parameters (name, place,
required, schema), request body and response schemas and statuses, and OAuth scopes; per schema the property
names, types, formats, bounds, nullability, enums, `required` and the `$ref`/`items`/`oneOf` structure. It
drops every description, example, default, tag and vendor extension. `scripts/openapi_skeleton.py` writes it;
`derive(derive(doc)) == derive(doc)`, so a committed skeleton is its own skeleton.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("etsy_openapi_skeleton.json")
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
SCHEMA_KEYS = (
    "type",
    "format",
    "nullable",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "required",
    "$ref",
)
NESTED_ONE = ("items", "additionalProperties", "not")
NESTED_MANY = ("oneOf", "anyOf", "allOf")
PARAMETER_KEYS = ("name", "in", "required", "style", "explode")
MARK = "derived by scripts/openapi_skeleton.py: structure only, no prose"


def schema(node: Any) -> Any:
    """A schema's structure; under `properties` every name is kept (a property may be called `description`)."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {k: node[k] for k in SCHEMA_KEYS if k in node}
    if isinstance(node.get("properties"), dict):
        out["properties"] = {name: schema(sub) for name, sub in node["properties"].items()}
    for key in NESTED_ONE:
        if key in node:
            out[key] = schema(node[key])
    for key in NESTED_MANY:
        if key in node:
            out[key] = [schema(sub) for sub in node[key]]
    return out


def _content(node: dict[str, Any]) -> dict[str, Any]:
    return {media: {"schema": schema(body.get("schema", {}))} for media, body in node.get("content", {}).items()}


def _parameter(node: dict[str, Any]) -> dict[str, Any]:
    out = {k: node[k] for k in PARAMETER_KEYS if k in node}
    if "schema" in node:
        out["schema"] = schema(node["schema"])
    return out


def operation(node: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": node["operationId"]}
    out["parameters"] = [_parameter(p) for p in node.get("parameters", [])]
    if "requestBody" in node:
        body = node["requestBody"]
        out["requestBody"] = {"content": _content(body)}
        if "required" in body:
            out["requestBody"]["required"] = body["required"]
    out["responses"] = {str(code): {"content": _content(r)} for code, r in node.get("responses", {}).items()}
    if "security" in node:
        out["security"] = node["security"]
    return out


def derive(document: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, item in document.get("paths", {}).items():
        ops: dict[str, Any] = {
            m: operation(item[m]) for m in METHODS if isinstance(item.get(m), dict) and "operationId" in item[m]
        }
        if "parameters" in item:
            ops["parameters"] = [_parameter(p) for p in item["parameters"]]
        paths[path] = ops
    schemas = document.get("components", {}).get("schemas", {})
    return {
        "openapi": document.get("openapi"),
        "info": {"title": document.get("info", {}).get("title"), "version": document.get("info", {}).get("version")},
        "x-skeleton": MARK,
        "paths": paths,
        "components": {"schemas": {name: schema(node) for name, node in schemas.items()}},
    }


def dumps(skeleton: dict[str, Any]) -> str:
    """The committed form: one property per line, so a drift shows as a readable diff."""
    return json.dumps(skeleton, indent=1, ensure_ascii=False) + "\n"


def load(path: Path = PATH) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
