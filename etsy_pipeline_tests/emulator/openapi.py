"""Etsy's OpenAPI document as JSON Schema, for validating what the emulator sends.

By default the checks read the committed skeleton (etsy_pipeline/emulator/spec), so a fresh clone needs nothing
outside the repository; when ETSY_OPENAPI_SPEC is set they read Etsy's full document there instead (and
test_skeleton fails if the skeleton has drifted from it). The document is OpenAPI 3.0 (`nullable`,
`#/components/schemas` refs). Its schemas mark nothing `required`, so type validation alone cannot catch a
missing field: `strict` makes every listed property required and forbids unlisted ones (schemas that list no
properties stay free-form).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from etsy_pipeline.emulator.spec import skeleton
from etsy_pipeline.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def full_spec_path() -> Path | None:
    """Etsy's full document when ETSY_OPENAPI_SPEC names it, else None (the skeleton is used)."""
    settings = load_settings(_env_file=None)
    if not settings.etsy_openapi_spec:
        return None
    path = Path(settings.etsy_openapi_spec)
    return path if path.is_absolute() else (ROOT / path).resolve()


def spec_path() -> Path:
    return full_spec_path() or skeleton.PATH


@cache
def spec() -> dict[str, Any]:
    return json.loads(spec_path().read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _convert(node: Any, strict: bool) -> Any:
    if isinstance(node, list):
        return [_convert(item, strict) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v, strict) for k, v in node.items() if k not in ("nullable", "example", "default")}
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/definitions/")
    if strict and out.get("type") == "object" and out.get("properties"):
        out["required"] = sorted(out["properties"])
        out["additionalProperties"] = False
    if node.get("nullable"):
        if "type" in out and not any(k in out for k in ("oneOf", "anyOf", "allOf", "$ref")):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _definitions(strict: bool) -> dict[str, Any]:
    schemas = copy.deepcopy(spec()["components"]["schemas"])
    return {name: _convert(schema, strict) for name, schema in schemas.items()}


def validator(schema_name: str, *, strict: bool) -> Draft7Validator:
    root = {"$ref": f"#/definitions/{schema_name}", "definitions": _definitions(strict)}
    return Draft7Validator(root)


def operations() -> dict[str, tuple[str, str, str | None]]:
    """operationId -> (METHOD, path, name of the 200/201 response schema)."""
    out = {}
    for path, item in spec()["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            response = op["responses"].get("200") or op["responses"].get("201") or {}
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            ref = schema.get("$ref", "").split("/")[-1] or None
            out[op["operationId"]] = (method.upper(), path, ref)
    return out


def statuses(operation_id: str) -> set[int]:
    """The HTTP statuses Etsy's document lists for an operation."""
    for item in spec()["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return {int(code) for code in op["responses"]}
    raise KeyError(operation_id)


def errors(schema_name: str, body: Any, *, strict: bool) -> list[str]:
    """Every validation error, as 'path: message', for readable assertion failures."""
    found = validator(schema_name, strict=strict).iter_errors(body)
    return sorted(f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in found)[:20]
