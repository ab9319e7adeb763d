"""The files in ``schemas/``: JSON Schema generated from the pydantic models, and the
DuckDB DDL of the database."""

from __future__ import annotations

import json
from pathlib import Path

from kbharvest.models import Article, Rejection

SCHEMAS = {"article.schema.json": Article, "rejection.schema.json": Rejection}


def render_schemas() -> dict[str, str]:
    """Return {file name: text} for every schema file: the records' JSON Schema and the
    database's DDL (``kb.sql``)."""
    from kbharvest.store_schema import render_ddl

    out = {"kb.sql": render_ddl()}
    for name, model in SCHEMAS.items():
        doc = model.model_json_schema()
        doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        doc["$id"] = f"https://kbharvest.invalid/schemas/{name}"
        out[name] = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def write_schemas(folder: Path, check: bool = False) -> list[Path]:
    """Write the schemas into ``folder``; return the files that were (or would be) changed."""
    changed = []
    for name, text in render_schemas().items():
        path = folder / name
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        changed.append(path)
        if not check:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return changed
