"""The committed skeleton of Etsy's document: structure only, and the same as Etsy's document says."""

from __future__ import annotations

import json
from typing import Any

from etsy_pipeline.emulator.spec import skeleton
from etsy_pipeline_tests.emulator import openapi


def _differences(derived: dict[str, Any], committed: dict[str, Any]) -> list[str]:
    out = []
    for section in ("paths", "components"):
        mine, theirs = derived.get(section, {}), committed.get(section, {})
        if section == "components":
            mine, theirs = mine.get("schemas", {}), theirs.get("schemas", {})
        out += [f"{section}: {key}" for key in sorted(set(mine) | set(theirs)) if mine.get(key) != theirs.get(key)]
    return out[:20]


def test_the_committed_skeleton_has_not_drifted() -> None:
    """Against Etsy's full document when ETSY_OPENAPI_SPEC names it; otherwise the committed file must be its
    own skeleton (canonical, with no prose slipped in by hand)."""
    committed = skeleton.load()
    source = json.loads(openapi.spec_path().read_text(encoding="utf-8"))
    derived = skeleton.derive(source)
    assert derived == committed, (
        f"the skeleton differs from {openapi.spec_path()}: run scripts/openapi_skeleton.py; "
        f"differences: {_differences(derived, committed)}"
    )
    assert skeleton.dumps(committed) == skeleton.PATH.read_text(encoding="utf-8")


def test_derive_keeps_structure_and_drops_prose() -> None:
    document = {
        "openapi": "3.0.2",
        "info": {"title": "T", "version": "3", "description": "<p>prose</p>", "contact": {"email": "x@y"}},
        "tags": [{"name": "Shop", "description": "prose"}],
        "paths": {
            "/v3/application/things/{thing_id}": {
                "get": {
                    "operationId": "getThing",
                    "description": "Gets a thing.",
                    "tags": ["Shop"],
                    "parameters": [
                        {
                            "name": "thing_id",
                            "in": "path",
                            "required": True,
                            "description": "The id.",
                            "schema": {"type": "integer", "minimum": 1, "description": "The id.", "example": 7},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "A thing",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                        },
                        "404": {"description": "Not found"},
                    },
                    "security": [{"api_key": [], "oauth2": ["shops_r"]}],
                }
            }
        },
        "components": {
            "securitySchemes": {"api_key": {"type": "apiKey", "description": "prose"}},
            "schemas": {
                "Thing": {
                    "type": "object",
                    "x-resource-id": "Thing",
                    "description": "A thing.",
                    "properties": {
                        "description": {"type": "string", "nullable": True, "description": "Its description."},
                        "state": {"type": "string", "enum": ["a", "b"], "default": "a"},
                        "parts": {
                            "type": "array",
                            "items": {"oneOf": [{"$ref": "#/components/schemas/Part"}], "description": "x"},
                        },
                    },
                }
            },
        },
    }
    assert skeleton.derive(document) == {
        "openapi": "3.0.2",
        "info": {"title": "T", "version": "3"},
        "x-skeleton": skeleton.MARK,
        "paths": {
            "/v3/application/things/{thing_id}": {
                "get": {
                    "operationId": "getThing",
                    "parameters": [
                        {
                            "name": "thing_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    ],
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                        "404": {"content": {}},
                    },
                    "security": [{"api_key": [], "oauth2": ["shops_r"]}],
                }
            }
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {
                        "description": {"type": "string", "nullable": True},
                        "state": {"type": "string", "enum": ["a", "b"]},
                        "parts": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/Part"}]}},
                    },
                }
            }
        },
    }
    assert skeleton.derive(skeleton.derive(document)) == skeleton.derive(document)
