"""Verifying a release folder: checksums, Parquet schemas, row counts and the card's numbers.

``verify`` collects every problem it finds (each naming its file) and raises
ReleaseVerificationError with all of them, so one run tells everything that is wrong.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from kbharvest.errors import ReleaseVerificationError
from kbharvest.release import (
    JSONL_NAME,
    TABLE_NAMES,
    _files_list_sql,
    _listing,
    collect_counts,
    describe_parquet,
    sha256_file,
)

REQUIRED = ("manifest.json", "SHA256SUMS", "README.md", "CHANGELOG.md", "croissant.json",
            "datapackage.json", JSONL_NAME, "schema/article.schema.json", "schema/kb.sql",
            "schema/tables.sql")


@dataclass
class VerifyReport:
    """A release that passed: its version, how many files, rows and records were checked."""

    path: Path
    version: str
    files: int
    rows: dict[str, int]
    records: int


def verify(path: Path | str) -> VerifyReport:
    """Check the release folder ``path``; return a VerifyReport, or raise
    ReleaseVerificationError listing every problem (a missing, unlisted or changed file, an
    unreadable Parquet file, a schema or row count that disagrees with the manifest, a card,
    croissant.json or datapackage.json whose numbers disagree with the data).
    """
    root = Path(path)
    problems: list[str] = []
    if not root.is_dir():
        raise ReleaseVerificationError(str(root), ["not a folder"])
    sums = _check_sums(root, problems)
    for name in REQUIRED:
        if not (root / name).is_file() and name not in sums:
            problems.append(f"{name}: missing file")
    manifest = _load_json(root, "manifest.json", problems)
    if manifest is None:
        raise ReleaseVerificationError(str(root), problems)
    for rel, info in (manifest.get("files") or {}).items():
        if rel in sums and sums[rel] != info.get("sha256"):
            problems.append(f"{rel}: manifest.json and SHA256SUMS give different checksums")
        if (root / rel).is_file() and (root / rel).stat().st_size != info.get("bytes"):
            problems.append(f"{rel}: size {(root / rel).stat().st_size} bytes, manifest.json "
                            f"says {info.get('bytes')}")

    rows = _check_tables(root, manifest, problems)
    records = _check_records(root, manifest, rows, problems)
    _check_counts(root, manifest, problems)
    _check_card(root, manifest, rows, problems)
    _check_described_files(root, manifest, problems)
    if problems:
        raise ReleaseVerificationError(str(root), problems)
    return VerifyReport(root, manifest["version"], len(_listing(root)), rows, records)


def _load_json(root: Path, name: str, problems: list[str]) -> dict | None:
    try:
        return json.loads((root / name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None  # already reported as missing
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"{name}: not valid JSON ({exc})")
        return None


def _check_sums(root: Path, problems: list[str]) -> dict[str, str]:
    sums: dict[str, str] = {}
    try:
        text = (root / "SHA256SUMS").read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return sums
    for n, line in enumerate(text.splitlines(), 1):
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not m:
            problems.append(f"SHA256SUMS: line {n} is not '<sha256>  <file>'")
            continue
        sums[m.group(2)] = m.group(1)
    present = set(_listing(root)) - {"SHA256SUMS"}
    for rel, digest in sums.items():
        if not (root / rel).is_file():
            problems.append(f"{rel}: missing file (listed in SHA256SUMS)")
        elif sha256_file(root / rel) != digest:
            problems.append(f"{rel}: checksum mismatch (the file changed since the release)")
    for rel in sorted(present - set(sums)):
        problems.append(f"{rel}: unlisted file (not in SHA256SUMS)")
    return sums


def _check_tables(root: Path, manifest: dict, problems: list[str]) -> dict[str, int]:
    rows: dict[str, int] = {}
    tables = manifest.get("tables") or {}
    for name in TABLE_NAMES:
        if name not in tables:
            problems.append(f"manifest.json: table {name} is missing")
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    try:
        for name, info in tables.items():
            files = [root / f for f in info.get("files", [])]
            n = len(files)
            on_disk = sorted(p.relative_to(root).as_posix()
                             for p in (root / "data" / name).glob("*.parquet"))
            if on_disk != sorted(info.get("files", [])):
                problems.append(f"data/{name}/: files {on_disk} but manifest.json lists "
                                f"{sorted(info.get('files', []))}")
            for i, f in enumerate(files):
                if f.name != f"{name}-{i:05d}-of-{n:05d}.parquet":
                    problems.append(f"{f.relative_to(root)}: not named {name}-{i:05d}-of-"
                                    f"{n:05d}.parquet")
            total = 0
            readable = True
            for f in files:
                rel = f.relative_to(root).as_posix()
                if not f.is_file():
                    readable = False
                    continue  # reported with the checksums
                try:
                    total += con.execute(
                        f"SELECT num_rows FROM parquet_file_metadata({_files_list_sql([f])})"
                    ).fetchone()[0]
                    kv = {k.decode(): v.decode() for _, k, v in con.execute(
                        f"SELECT * FROM parquet_kv_metadata({_files_list_sql([f])})").fetchall()}
                    # read every value: a damaged page fails here even when the footer is fine
                    con.execute(f"SELECT count(*) FROM (SELECT * FROM "
                                f"read_parquet({_files_list_sql([f])}))").fetchone()
                except duckdb.Error as exc:
                    readable = False
                    problems.append(f"{rel}: unreadable Parquet ({str(exc).splitlines()[0]})")
                    continue
                if kv.get("release_version") != manifest.get("version"):
                    problems.append(f"{rel}: release_version metadata "
                                    f"{kv.get('release_version')!r}, manifest.json says "
                                    f"{manifest.get('version')!r}")
                if kv.get("schema_version") != manifest.get("schema_version"):
                    problems.append(f"{rel}: schema_version metadata "
                                    f"{kv.get('schema_version')!r}, manifest.json says "
                                    f"{manifest.get('schema_version')!r}")
            if not readable or not files:
                continue
            rows[name] = total
            if total != info.get("rows"):
                problems.append(f"data/{name}/: {total} rows, manifest.json says "
                                f"{info.get('rows')}")
            try:
                columns = describe_parquet(con, files)
            except duckdb.Error as exc:
                problems.append(f"data/{name}/: shards do not read as one table ({exc})")
                continue
            want = list((info.get("columns") or {}).items())
            if [tuple(c) for c in columns] != want:
                problems.append(f"data/{name}/: schema {columns} differs from manifest.json "
                                f"{want}")
    finally:
        con.close()
    return rows


def _check_records(root: Path, manifest: dict, rows: dict[str, int],
                   problems: list[str]) -> int:
    from pydantic import ValidationError

    from kbharvest.models import Article

    path = root / JSONL_NAME
    if not path.is_file():
        return 0
    count = 0
    keys = set()
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                try:
                    art = Article.model_validate_json(line)
                except ValidationError as exc:
                    problems.append(f"{JSONL_NAME}: line {n} is not an Article record "
                                    f"({exc.errors()[0]['msg']})")
                    continue
                keys.add((art.kb_id, art.language))
                count += 1
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        problems.append(f"{JSONL_NAME}: unreadable ({exc})")
        return count
    want = (manifest.get("articles_jsonl") or {}).get("records")
    if count != want:
        problems.append(f"{JSONL_NAME}: {count} records, manifest.json says {want}")
    if len(keys) != count:
        problems.append(f"{JSONL_NAME}: {count - len(keys)} duplicate (kb_id, language) records")
    latest = (manifest.get("counts") or {}).get("captures", {}).get("latest_articles")
    if latest is not None and count != latest:
        problems.append(f"{JSONL_NAME}: {count} records, but {latest} latest articles counted")
    return count


def _release_connection(root: Path, manifest: dict) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose views read the release's Parquet files under the table names
    (so the same counting SQL runs on a release as on the database)."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    tables = manifest["tables"]
    for name in TABLE_NAMES:
        files = _files_list_sql(root / f for f in tables[name]["files"])
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files})")
    con.execute("CREATE VIEW latest_articles AS SELECT * FROM articles WHERE is_latest")
    return con


def _check_counts(root: Path, manifest: dict, problems: list[str]) -> None:
    """The manifest's counts (templates, years, gaps) recomputed from the Parquet files."""
    if any(p.startswith("data/") or "unreadable" in p or "missing file" in p
           for p in problems):
        return  # counts over damaged data would only repeat those problems
    try:
        con = _release_connection(root, manifest)
        try:
            # captures.captured_at is in the captures table, as in the database
            counts = json.loads(json.dumps(collect_counts(con)))
        finally:
            con.close()
    except (duckdb.Error, KeyError) as exc:
        problems.append(f"data/: cannot recount ({exc})")
        return
    for key, value in counts.items():
        if (manifest.get("counts") or {}).get(key) != value:
            problems.append(f"manifest.json: counts.{key} {manifest.get('counts', {}).get(key)}"
                            f" but the data gives {value}")


def _check_card(root: Path, manifest: dict, rows: dict[str, int], problems: list[str]) -> None:
    from kbharvest.release_card import read_card_counts

    try:
        text = (root / "README.md").read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not m:
        problems.append("README.md: no YAML front matter")
        return
    try:
        front = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        problems.append(f"README.md: front matter is not YAML ({exc})")
        return
    configs = {c.get("config_name"): c for c in front.get("configs", [])}
    if sorted(configs) != sorted(TABLE_NAMES):
        problems.append(f"README.md: configs {sorted(configs)} but the release has "
                        f"{sorted(TABLE_NAMES)}")
    for info in front.get("dataset_info", []):
        name = info.get("config_name")
        t = manifest.get("tables", {}).get(name)
        if t is None:
            problems.append(f"README.md: dataset_info for unknown config {name}")
            continue
        n = sum(s.get("num_examples", 0) for s in info.get("splits", []))
        if name in rows and n != rows[name]:
            problems.append(f"README.md: {name} has {n} examples in the card, {rows[name]} "
                            "rows in the data")
        if info.get("download_size") != t.get("bytes"):
            problems.append(f"README.md: {name} download_size {info.get('download_size')}, the "
                            f"files hold {t.get('bytes')} bytes")
        names = [f.get("name") for f in info.get("features", [])]
        if names != list(t.get("columns", {})):
            problems.append(f"README.md: {name} features {names} differ from the columns")
    body = read_card_counts(text)
    counts = manifest.get("counts", {})
    for key in ("by_template", "by_year"):
        if body.get(key) != counts.get(key):
            problems.append(f"README.md: the {key.replace('_', ' ')} counts {body.get(key)} "
                            f"differ from manifest.json {counts.get(key)}")
    cfg_rows = {r[0]: r[1] for r in body.get("by_config", [])}
    for name, n in rows.items():
        if cfg_rows.get(name) != n:
            problems.append(f"README.md: rows per config gives {name} {cfg_rows.get(name)}, "
                            f"the data {n}")


def _check_described_files(root: Path, manifest: dict, problems: list[str]) -> None:
    """croissant.json and datapackage.json: every file they name exists with that sha256/size,
    every table has its record set / resources."""
    croissant = _load_json(root, "croissant.json", problems)
    if croissant is not None:
        seen_sets = set()
        for item in croissant.get("distribution", []):
            if item.get("@type") == "cr:FileObject":
                _same_file(root, "croissant.json", item.get("contentUrl", ""),
                           item.get("sha256"), _bytes(item.get("contentSize")), problems)
        for rs in croissant.get("recordSet", []):
            seen_sets.add(rs.get("@id"))
        if sorted(seen_sets) != sorted(TABLE_NAMES):
            problems.append(f"croissant.json: record sets {sorted(seen_sets)} but the release "
                            f"has {sorted(TABLE_NAMES)}")
    package = _load_json(root, "datapackage.json", problems)
    if package is not None:
        paths = set()
        for res in package.get("resources", []):
            digest = str(res.get("hash", "")).removeprefix("sha256:")
            _same_file(root, "datapackage.json", res.get("path", ""), digest, res.get("bytes"),
                       problems)
            paths.add(res.get("path"))
        for info in (manifest.get("tables") or {}).values():
            for f in info.get("files", []):
                if f not in paths:
                    problems.append(f"datapackage.json: no resource for {f}")


def _bytes(size) -> int | None:
    m = re.fullmatch(r"(\d+) B", str(size or ""))
    return int(m.group(1)) if m else None


def _same_file(root: Path, doc: str, rel: str, digest, size, problems: list[str]) -> None:
    path = root / rel
    if not rel or not path.is_file():
        problems.append(f"{doc}: names {rel or '(nothing)'}, which is missing")
        return
    if size != path.stat().st_size:
        problems.append(f"{doc}: {rel} has {path.stat().st_size} bytes, {doc} says {size}")
    if digest != sha256_file(path):
        problems.append(f"{doc}: {rel} checksum differs from {doc}")


__all__ = ["VerifyReport", "verify"]
