"""The describing files of a release: the dataset card (README.md), croissant.json,
datapackage.json and the DDL of the released tables, rendered from the release manifest.

Every function here is pure (manifest in, text or JSON out), so the same release renders the
same bytes. Column meanings come from the comments of the database DDL and the field
descriptions of the record models, so they cannot drift from the code.
"""

from __future__ import annotations

import re
from functools import cache

import yaml

# --------------------------------------------------------------------------- column meanings

_EXTRA = {
    "is_latest": "True for the newest capture of each (kb_id, language): the article as it "
                 "was last archived.",
    "extra": "Columns of the file table not named above (SP requirement, service branch, "
             "folder …) as a list of {key, value}; in DuckDB map_from_entries(extra) gives a map.",
    "capture_id": "captures.capture_id: sha256 hex of (payload sha256, url, served timestamp); "
                  "joins every table to its capture.",
    "ordinal": "Position in page order, from 1.",
    "table_no": "Which file table of the page, from 1.",
    "row_no": "Which row of that table, from 1.",
    "ref_kb_id": "The KB id referred to.",
    "replaces_kb_id": "The KB id this hotfix supersedes.",
    "product": "One product of the \"Applies to\" list.",
    "keyword": "One KB keyword.",
    "restart_requirement": "required, not_required, may_be_required or unknown.",
    "restart_text": "The restart requirement text the value was read from.",
    "replacement_text": "The hotfix replacement text (NULL when the page has none).",
    "row_count": "Number of rows the table kept.",
    "kb_refs": "KB ids named.",
    "text": "The text (plain, paragraph breaks kept).",
}


@cache
def column_meanings() -> dict[str, dict[str, str]]:
    """{table: {column: meaning}} from the DDL comments, the record models and the provenance."""
    from kbharvest.models import Article, FileRow, FileTable, Prerequisites, Section
    from kbharvest.release import PROVENANCE
    from kbharvest.store_schema import TABLES as DDL

    models: dict[str, str] = {}
    for model in (FileRow, FileTable, Section, Prerequisites, Article):
        for name, info in model.model_fields.items():
            models.setdefault(name, info.description or "")
    table_comments: dict[str, dict[str, str]] = {}
    for ddl in DDL:
        m = re.search(r"CREATE TABLE IF NOT EXISTS (\w+) \(", ddl)
        if not m:
            continue
        cols = table_comments.setdefault(m.group(1), {})
        for line in ddl[m.end():].splitlines():
            c = re.match(r"\s+(\w+)\s+[A-Z][^-]*?(?:--\s*(.*))?$", line)
            if c and c.group(2):
                cols[c.group(1)] = c.group(2).strip()
    out: dict[str, dict[str, str]] = {}
    for table, cols in table_comments.items():
        out[table] = cols
    out["triples"] = {}
    out["_"] = {**models, **_EXTRA, **PROVENANCE}
    return out


def meaning(table: str, column: str) -> str:
    """What one released column means."""
    m = column_meanings()
    from kbharvest.release import PROVENANCE

    if column in PROVENANCE:
        return PROVENANCE[column]
    if table == "file_rows" and column == "extra":
        return _EXTRA["extra"]
    text = (m.get(table, {}).get(column) or _EXTRA.get(column) or m["_"].get(column)
            or column.replace("_", " "))
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", ")")) else text + "."


# --------------------------------------------------------------------------- types


def parse_type(text: str):
    """A DuckDB type string as a tree: 'BIGINT', ('list', t), ('struct', [(name, t)]),
    ('map', k, v)."""
    text = text.strip()
    if text.endswith("[]"):
        return ("list", parse_type(text[:-2]))
    upper = text.upper()
    if upper.startswith("STRUCT(") and text.endswith(")"):
        return ("struct", [(n, parse_type(t)) for n, t in
                           (_split_name(p) for p in _split_top(text[7:-1]))])
    if upper.startswith("MAP(") and text.endswith(")"):
        k, v = _split_top(text[4:-1])
        return ("map", parse_type(k), parse_type(v))
    return upper


def _split_top(s: str) -> list[str]:
    parts, depth, cur, quoted = [], 0, [], False
    for ch in s:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _split_name(part: str) -> tuple[str, str]:
    if part.startswith('"'):
        end = part.index('"', 1)
        return part[1:end], part[end + 1:]
    name, _, rest = part.partition(" ")
    return name, rest


_HF = {"BIGINT": "int64", "INTEGER": "int32", "SMALLINT": "int16", "TINYINT": "int8",
       "UBIGINT": "uint64", "UINTEGER": "uint32", "VARCHAR": "string", "BOOLEAN": "bool",
       "DATE": "date32", "TIMESTAMP": "timestamp[us]", "DOUBLE": "float64", "FLOAT": "float32",
       "BLOB": "binary"}
_FRICTIONLESS = {"BIGINT": "integer", "INTEGER": "integer", "SMALLINT": "integer",
                 "TINYINT": "integer", "UBIGINT": "integer", "UINTEGER": "integer",
                 "VARCHAR": "string", "BOOLEAN": "boolean", "DATE": "date",
                 "TIMESTAMP": "datetime", "DOUBLE": "number", "FLOAT": "number",
                 "BLOB": "string"}
_CROISSANT = {"BIGINT": "sc:Integer", "INTEGER": "sc:Integer", "SMALLINT": "sc:Integer",
              "TINYINT": "sc:Integer", "UBIGINT": "sc:Integer", "UINTEGER": "sc:Integer",
              "VARCHAR": "sc:Text", "BOOLEAN": "sc:Boolean", "DATE": "sc:Date",
              "TIMESTAMP": "sc:DateTime", "DOUBLE": "sc:Float", "FLOAT": "sc:Float",
              "BLOB": "sc:Text"}


def hf_feature(name: str, tree) -> dict:
    """One column as a Hugging Face ``dataset_info.features`` entry."""
    feat = {"name": name} if name else {}
    if isinstance(tree, str):
        return {**feat, "dtype": _HF.get(tree, "string")}
    if tree[0] == "list":
        inner = hf_feature("", tree[1])
        return {**feat, "list": inner.get("dtype", inner.get("list") if "list" in inner
                                          else inner.get("struct"))}
    if tree[0] == "struct":
        return {**feat, "struct": [hf_feature(n, t) for n, t in tree[1]]}
    return {**feat, "dtype": "string"}  # maps are not released (see release.py)


# --------------------------------------------------------------------------- dataset card


MICROSOFT_TERMS = "https://www.microsoft.com/en-us/legal/terms-of-use"
_LICENSE_NOTE = (
    "The article text is Microsoft's: the Knowledge Base articles were published by Microsoft "
    "Corporation on support.microsoft.com and are © Microsoft, under Microsoft's terms of use. "
    "This dataset redistributes archived copies of them for research, preservation and "
    "interoperability; it grants no rights to that text. The structure, field extraction and "
    "metadata were made by kbharvest (MIT licence).")


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < limit:
            return label
    return "10M<n<100M"


def card_front_matter(manifest: dict) -> dict:
    """The YAML front matter of the card (Hugging Face dataset card metadata)."""
    from kbharvest.release import TABLE_NAMES

    tables = manifest["tables"]
    langs = sorted({lang.split("-")[0].lower() for lang in manifest.get("languages", [])
                    if re.fullmatch(r"[A-Za-z]{2,3}(-\w+)?", lang)})
    configs = []
    infos = []
    for name in TABLE_NAMES:
        t = tables[name]
        configs.append({"config_name": name,
                        "data_files": [{"split": "train", "path": f"data/{name}/*.parquet"}],
                        **({"default": True} if name == "articles" else {})})
        infos.append({
            "config_name": name,
            "features": [hf_feature(c, parse_type(ty)) for c, ty in t["columns"].items()],
            "splits": [{"name": "train", "num_bytes": t["uncompressed_bytes"],
                        "num_examples": t["rows"]}],
            "download_size": t["bytes"],
            "dataset_size": t["uncompressed_bytes"],
        })
    return {
        "pretty_name": f"kbharvest {manifest['version']}: Microsoft Knowledge Base articles "
                       "rescued from web archives",
        "license": "other",
        "license_name": "microsoft-kb-text",
        "license_link": MICROSOFT_TERMS,
        "language": langs or ["en"],
        "size_categories": [_size_category(manifest["articles_jsonl"]["records"])],
        "task_categories": ["text-retrieval", "question-answering", "text-generation"],
        "tags": ["microsoft", "knowledge-base", "hotfix", "web-archive", "wayback-machine",
                 "provenance"],
        "configs": configs,
        "dataset_info": infos,
    }


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return out


def render_card(manifest: dict) -> str:
    """README.md of the release: YAML front matter, then the card's sections."""
    from kbharvest.release import JSONL_NAME, TABLE_NAMES, release_dir_name

    v = manifest["version"]
    name = release_dir_name(v)
    tables = manifest["tables"]
    counts = manifest["counts"]
    caps = counts["captures"]
    gaps = counts["gaps"]
    front = yaml.safe_dump(card_front_matter(manifest), sort_keys=False, allow_unicode=True,
                           width=100, default_flow_style=False)
    L: list[str] = ["---", front.rstrip("\n"), "---", ""]
    L += [f"# {name}: Microsoft Knowledge Base articles rescued from web archives", ""]
    L += ["## What it is", "",
          "Microsoft retired most of its old Knowledge Base (support.microsoft.com/kb/NNNNNN): "
          "hotfix articles with their symptoms, causes, prerequisites, restart requirements and "
          "the exact file versions they shipped. Copies survive in web archives. This dataset "
          f"holds {caps['kb_ids']:,} KB articles ({caps['latest_articles']:,} article/language "
          f"pairs) parsed from {caps['total']:,} archived captures, as normalised tables with "
          "the provenance of every row, plus one JSON record per article.", ""]
    L += ["## How it was made", "",
          "kbharvest fetched captures from Wayback-compatible archives "
          "into WARC files (`kbharvest fetch`), parsed each capture into a validated record "
          "(`kbharvest parse`; the page layout is recognised from the content), loaded the "
          "records into DuckDB (`kbharvest load`) and exported this release "
          f"(`kbharvest release --version {v}`). Pages that are not articles (archive errors, "
          "soft 404s, sign-in pages) are kept in `captures` with their rejection reason.", "",
          f"- parser version: {manifest['parser_version']}",
          f"- database schema version: {manifest['schema_version']}",
          f"- kbharvest {manifest['kbharvest_version']}, DuckDB {manifest['duckdb_version']}"
          + (f", commit {manifest['git_commit']}" if manifest.get("git_commit") else ""), "",
          "Every row carries `source_url`, `source_timestamp` (the archive's 14 digits), "
          "`source_digest` and `parser_version`: "
          "`https://web.archive.org/web/<source_timestamp>id_/<source_url>` replays the "
          "capture it came from.", ""]
    L += ["## Configs and fields", "",
          f"Each config is one table, in `data/<config>/*.parquet`; `{JSONL_NAME}` holds the "
          "newest record of each (kb_id, language) in kbharvest's record contract "
          "(`schema/article.schema.json`). Tables join on `capture_id`.", ""]
    for t in TABLE_NAMES:
        info = tables[t]
        L += [f"### {t}", "", f"{info['description']} {info['rows']:,} rows.", ""]
        L += _table(["column", "type", "meaning"],
                    [[f"`{c}`", f"`{ty}`", meaning(t, c)] for c, ty in info["columns"].items()])
        L.append("")
    example_file = tables["articles"]["files"][0]
    L += ["## How to load", "", "Paths are relative to this folder.", "",
          "pyarrow (or pandas: `pandas.read_parquet(\"data/articles\")`):", "", "```python",
          "import pyarrow.dataset as ds",
          "articles = ds.dataset(\"data/articles\", format=\"parquet\").to_table()",
          "latest = articles.filter(ds.field(\"is_latest\"))", "```", "",
          "DuckDB, without loading anything (Spark and other Arrow engines read the same "
          "files):", "", "```sql",
          "SELECT kb_id, title, source_url FROM read_parquet('data/articles/*.parquet')",
          "WHERE is_latest ORDER BY kb_id LIMIT 10;",
          "SELECT f.kb_id, f.file_name, f.file_version FROM read_parquet('data/file_rows/*.parquet') f",
          "WHERE lower(f.file_name) = 'volsnap.sys' ORDER BY f.version_key DESC;", "```", "",
          "Hugging Face datasets (one config at a time):", "", "```python",
          "from datasets import load_dataset",
          "triples = load_dataset(\".\", \"triples\", split=\"train\")",
          "```", "",
          f"The records, one JSON object per line: `gzip.open(\"{JSONL_NAME}\")`. "
          f"`{example_file}` is a single shard; globs read them all.", ""]
    rej = "; ".join(f"{r} ({n:,})" for r, n in gaps["rejections"]) or "none"
    L += ["## Known gaps", "",
          f"- {gaps['file_tables_rows_missing']:,} file tables kept only their caption: the "
          "archived page had lost the rows (`file_tables.rows_missing`); "
          f"{gaps['articles_with_rows_missing']:,} of the newest articles have such a table.",
          f"- {gaps['latest_without_triple']:,} of the newest articles have none of symptoms, "
          "cause and resolution (not every article is a hotfix), and are not in `triples`.",
          f"- Newest articles without a title: {gaps['latest_without_title']:,}; without a "
          f"last-review date: {gaps['latest_without_last_review']:,}; without a language: "
          f"{gaps['latest_without_language']:,}; with parser warnings (text the parser could "
          f"not place, kept in `warnings`): {gaps['latest_with_warnings']:,}.",
          f"- {caps['rejected']:,} captures were not articles: {rej}.",
          "- Only what the archives kept is here: articles never archived, or archived only "
          "as redirects to the support home page, are missing.", ""]
    L += ["## Counts", "", "Per template:", ""]
    L += _table(["template", "articles (newest)", "captures"], counts["by_template"])
    L += ["", "Per year (articles by last-review year, captures by capture year):", ""]
    L += _table(["year", "articles (newest)", "captures"], counts["by_year"])
    L += ["", "Rows per config:", ""]
    L += _table(["config", "rows", "files", "bytes"],
                [[t, tables[t]["rows"], len(tables[t]["files"]), tables[t]["bytes"]]
                 for t in TABLE_NAMES])
    L += ["", "## License", "", _LICENSE_NOTE, ""]
    L += ["## Verifying", "",
          "`SHA256SUMS` lists every file (`sha256sum -c SHA256SUMS`); `manifest.json` gives the "
          "version, the parser version, row and capture counts and the previous release "
          f"compared; `kbharvest verify {name}` checks all of it. `croissant.json` (ML Commons "
          "Croissant) and `datapackage.json` (Frictionless) describe the same files.", ""]
    return "\n".join(L)


def read_card_counts(text: str) -> dict[str, list[list]]:
    """The count tables of a card's "## Counts" section, as {"by_template": …, "by_year": …}."""
    section = text.split("\n## Counts\n", 1)[-1].split("\n## ", 1)[0]
    tables: list[list[list]] = []
    current: list[list] | None = None
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if current is None:
                current = []  # the header row
                continue
            current.append([cells[0], *[int(c) for c in cells[1:]]]
                           if all(c.isdigit() for c in cells[1:]) else cells)
        elif line.startswith("|"):
            continue
        elif current is not None:
            tables.append(current)
            current = None
    if current is not None:
        tables.append(current)
    out = {}
    for key, rows in zip(("by_template", "by_year", "by_config"), tables, strict=False):
        out[key] = rows
    return out


# --------------------------------------------------------------------------- tables DDL


def render_tables_ddl(tables: dict[str, dict]) -> str:
    """schema/tables.sql: CREATE TABLE for every released table, as its Parquet files read."""
    from kbharvest.release import TABLE_NAMES

    out = ["-- The tables of this release as DuckDB reads their Parquet files (provenance",
           "-- columns included). To load one: CREATE TABLE t AS SELECT * FROM",
           "-- read_parquet('data/t/*.parquet'); schema/kb.sql is the source database's DDL.", ""]
    for name in TABLE_NAMES:
        cols = tables[name]["columns"]
        width = max(len(c) for c in cols)
        body = ",\n".join(f"    {c.ljust(width)} {ty}" for c, ty in cols.items())
        out += [f"CREATE TABLE {name} (", body, ");", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- croissant


CROISSANT_CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

_MEDIA = {".parquet": "application/x-parquet", ".gz": "application/gzip",
          ".json": "application/json", ".sql": "application/sql", ".md": "text/markdown"}


def _media(path: str) -> str:
    return next((m for ext, m in _MEDIA.items() if path.endswith(ext)), "text/plain")


def render_croissant(manifest: dict, files: dict[str, dict]) -> dict:
    """croissant.json (ML Commons Croissant 1.0): every file with its sha256 and size, and one
    record set per table (scalar columns; list columns are in the Parquet files and the card).
    """
    from kbharvest.release import TABLE_NAMES, release_dir_name

    name = release_dir_name(manifest["version"])
    distribution: list[dict] = []
    for path, info in files.items():
        distribution.append({
            "@type": "cr:FileObject", "@id": path, "name": path, "contentUrl": path,
            "encodingFormat": _media(path), "sha256": info["sha256"],
            "contentSize": f"{info['bytes']} B"})
    record_sets = []
    for table in TABLE_NAMES:
        t = manifest["tables"][table]
        distribution.append({
            "@type": "cr:FileSet", "@id": f"{table}-parquet", "name": f"{table}-parquet",
            "description": f"The Parquet shards of {table}.",
            "encodingFormat": "application/x-parquet", "includes": f"data/{table}/*.parquet"})
        fields = []
        for col, ty in t["columns"].items():
            tree = parse_type(ty)
            if not isinstance(tree, str):
                continue  # lists and structs: read them from Parquet directly
            fields.append({
                "@type": "cr:Field", "@id": f"{table}/{col}", "name": col,
                "description": meaning(table, col), "dataType": _CROISSANT.get(tree, "sc:Text"),
                "source": {"fileSet": {"@id": f"{table}-parquet"}, "extract": {"column": col}}})
        record_sets.append({"@type": "cr:RecordSet", "@id": table, "name": table,
                            "description": t["description"], "field": fields})
    return {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "name": name,
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "description": "Microsoft Knowledge Base articles rescued from web archives, parsed "
                       "into normalised tables with per-row provenance (kbharvest).",
        "license": MICROSOFT_TERMS,
        "version": manifest["version"],
        "citeAs": f"kbharvest {manifest['version']}: Microsoft Knowledge Base articles rescued "
                  "from web archives.",
        "creditText": _LICENSE_NOTE,
        "keywords": ["Microsoft Knowledge Base", "hotfix", "web archive", "provenance"],
        "distribution": distribution,
        "recordSet": record_sets,
    }


# --------------------------------------------------------------------------- datapackage


def _frictionless_field(name: str, tree, description: str) -> dict:
    if isinstance(tree, str):
        ftype = _FRICTIONLESS.get(tree, "string")
    elif tree[0] == "list":
        ftype = "array"
    else:
        ftype = "object"
    return {"name": name, "type": ftype, "description": description}


def render_datapackage(manifest: dict, files: dict[str, dict]) -> dict:
    """datapackage.json (Frictionless Data Package): one resource per file, with its sha256
    and size; Parquet shards carry their table's schema."""
    from kbharvest.release import TABLE_NAMES, release_dir_name

    shard_of = {f: t for t in TABLE_NAMES for f in manifest["tables"][t]["files"]}
    resources = []
    for path, info in files.items():
        slug = re.sub(r"[^a-z0-9._-]+", "-", path.lower()).strip("-")
        # "file": frictionless then checks each file's bytes and sha256. Its tabular reader
        # (pandas) cannot check list columns or nullable integers of Parquet, so the shards
        # are files too, their Table Schema kept to describe the columns.
        res = {"name": slug, "type": "file", "path": path, "bytes": info["bytes"],
               "hash": f"sha256:{info['sha256']}", "mediatype": _media(path)}
        if path in shard_of:
            table = shard_of[path]
            res.update({"format": "parquet", "description": manifest["tables"][table][
                "description"], "schema": {"fields": [
                    _frictionless_field(c, parse_type(ty), meaning(table, c))
                    for c, ty in manifest["tables"][table]["columns"].items()]}})
        elif path.endswith(".jsonl.gz"):
            res.update({"format": "jsonl", "compression": "gz",
                        "description": "The newest record of each (kb_id, language), one JSON "
                                       "object per line (schema/article.schema.json)."})
        else:
            res.update({"format": path.rsplit(".", 1)[-1]})
        resources.append(res)
    return {
        "name": release_dir_name(manifest["version"]).lower().replace("+", "-"),
        "title": f"kbharvest {manifest['version']}: Microsoft Knowledge Base articles rescued "
                 "from web archives",
        "version": manifest["version"],
        "licenses": [{"name": "other", "title": "Article text © Microsoft (terms of use); "
                      "see README.md#license",
                      "path": MICROSOFT_TERMS}],
        "resources": resources,
    }


__all__ = ["card_front_matter", "column_meanings", "hf_feature", "meaning", "parse_type",
           "read_card_counts", "render_card", "render_croissant", "render_datapackage",
           "render_tables_ddl"]
