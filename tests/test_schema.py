"""schemas/ holds exactly the JSON Schema the models generate."""

from __future__ import annotations

from pathlib import Path

from kbharvest.schema import render_schemas

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_schemas_folder_is_up_to_date_with_the_models():
    for name, text in render_schemas().items():
        path = SCHEMAS / name
        assert path.exists(), f"{path} missing: run `kbharvest schema`"
        assert path.read_text(encoding="utf-8") == text, f"{path} stale: run `kbharvest schema`"


def test_every_record_field_is_described():
    import json

    doc = json.loads(render_schemas()["article.schema.json"])
    assert "CREATE TABLE" in render_schemas()["kb.sql"]
    for name, prop in doc["properties"].items():
        assert prop.get("description"), name
    for defname, d in doc["$defs"].items():
        for name, prop in d.get("properties", {}).items():
            assert prop.get("description"), f"{defname}.{name}"
