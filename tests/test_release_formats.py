"""A release read by the tools its users have: pyarrow, Hugging Face datasets (the card's YAML),
mlcroissant (croissant.json) and frictionless (datapackage.json), all offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_release import build_db, make_release, records_v1

from kbharvest.release import TABLE_NAMES


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("formats")
    db = build_db(root / "kb.duckdb", records_v1())
    return make_release(db, root / "out").path


def manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text(encoding="utf-8"))


def test_card_front_matter_is_yaml_listing_every_config_with_its_files_and_sizes(release_dir):
    yaml = pytest.importorskip("yaml")
    text = (release_dir / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(re.match(r"---\n(.*?)\n---\n", text, re.S).group(1))
    assert [c["config_name"] for c in front["configs"]] == list(TABLE_NAMES)
    m = manifest(release_dir)
    for config, info in zip(front["configs"], front["dataset_info"], strict=True):
        name = config["config_name"]
        assert config["data_files"] == [{"split": "train", "path": f"data/{name}/*.parquet"}]
        assert info["splits"][0]["num_examples"] == m["tables"][name]["rows"]
        assert [f["name"] for f in info["features"]] == list(m["tables"][name]["columns"])
    assert front["license"] == "other" and "Microsoft" in text.split("## License", 1)[1]
    for heading in ("## What it is", "## How it was made", "## Configs and fields",
                    "## How to load", "## Known gaps", "## Counts"):
        assert heading in text, heading
    assert "| kb-classic | 2 | 3 |" in text  # per template: newest articles, captures
    assert "2 file tables kept only their caption" not in text  # the real number is shown
    assert f"{m['counts']['gaps']['file_tables_rows_missing']} file tables kept only" in text


def test_every_table_loads_with_pyarrow(release_dir):
    ds = pytest.importorskip("pyarrow.dataset")
    m = manifest(release_dir)
    for name in TABLE_NAMES:
        table = ds.dataset(release_dir / "data" / name, format="parquet").to_table()
        assert table.num_rows == m["tables"][name]["rows"], name
        assert table.column_names == list(m["tables"][name]["columns"])
    articles = ds.dataset(release_dir / "data" / "articles", format="parquet")
    latest = articles.to_table(filter=ds.field("is_latest"))
    assert latest.num_rows == m["articles_jsonl"]["records"] == 6
    meta = articles.schema.metadata
    assert meta[b"release_version"] == b"2026.11.0"


def test_hugging_face_datasets_loads_a_config_by_the_card(release_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # nothing written under ~
    datasets = pytest.importorskip("datasets")
    rows = datasets.load_dataset(str(release_dir), "file_rows", split="train",
                                 cache_dir=str(tmp_path))
    assert rows.num_rows == manifest(release_dir)["tables"]["file_rows"]["rows"]
    assert {"key": "Folder", "value": "C:\\Quokka"} in rows[0]["extra"]
    default = datasets.load_dataset(str(release_dir), split="train", cache_dir=str(tmp_path))
    assert default.num_rows == manifest(release_dir)["tables"]["articles"]["rows"]


def test_croissant_validates_and_mlcroissant_reads_the_records_back(release_dir, monkeypatch):
    mlc = pytest.importorskip("mlcroissant")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dataset = mlc.Dataset(jsonld=str(release_dir / "croissant.json"))  # raises on errors
    issues = dataset.metadata.ctx.issues
    assert not issues.errors
    # datePublished would be the wall clock, which stays out of every file but the manifest
    assert all("datePublished" in w for w in issues.warnings), issues.warnings
    m = manifest(release_dir)
    triples = list(dataset.records(record_set="triples"))
    assert len(triples) == m["tables"]["triples"]["rows"]
    assert sorted({r["triples/kb_id"] for r in triples}) == [111111, 222222, 444444, 555555]
    captures = list(dataset.records(record_set="captures"))
    assert len(captures) == m["tables"]["captures"]["rows"]
    assert {r["captures/outcome"] for r in captures} == {b"article", b"rejected"}


def test_croissant_gives_every_file_its_sha256_and_size(release_dir):
    doc = json.loads((release_dir / "croissant.json").read_text(encoding="utf-8"))
    objects = {d["contentUrl"]: d for d in doc["distribution"] if d["@type"] == "cr:FileObject"}
    for name, info in manifest(release_dir)["files"].items():
        if name in ("croissant.json", "datapackage.json"):
            continue
        assert objects[name]["sha256"] == info["sha256"], name
        assert objects[name]["contentSize"] == f"{info['bytes']} B"


def test_datapackage_validates_with_frictionless_and_catches_a_changed_file(release_dir, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    import shutil

    descriptor = json.loads((release_dir / "datapackage.json").read_text(encoding="utf-8"))
    assert list(frictionless.Package.metadata_validate(descriptor)) == []
    report = frictionless.validate(str(release_dir / "datapackage.json"))
    assert report.valid, report.flatten(["title", "message"])
    assert len(report.tasks) == len(descriptor["resources"])
    copy = shutil.copytree(release_dir, tmp_path / "r")
    shard = copy / manifest(copy)["tables"]["keywords"]["files"][0]
    data = bytearray(shard.read_bytes())
    data[-20] ^= 0x01
    shard.write_bytes(bytes(data))
    broken = frictionless.validate(str(copy / "datapackage.json"))
    assert not broken.valid
    bad = [t.name for t in broken.tasks if not t.valid]
    assert bad == [re.sub(r"[^a-z0-9._-]+", "-", str(shard.relative_to(copy)))]
