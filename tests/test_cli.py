"""The command line as a user runs it: `python -m kbharvest parse` output, exit codes, help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kbharvest.cli import cli

GOLDEN = Path(__file__).resolve().parent / "golden"
GOOD_HTML = GOLDEN / "classic-en-hotfix.html"
GOOD_TXT = GOLDEN / "ftp-txt-q241837.txt"
NOT_FOUND = GOLDEN / "reject-not-found.html"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kbharvest", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def jsonl(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_parse_prints_one_json_line_per_input_in_argument_order_and_exits_1_on_a_rejection(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    args = [str(GOOD_TXT), str(NOT_FOUND), str(empty), str(GOOD_HTML)]
    proc = run_cli("parse", "--format", "jsonl", *args)
    assert proc.returncode == 1, proc.stderr
    lines = jsonl(proc.stdout)
    assert len(lines) == 4, proc.stdout
    assert lines[0]["kb_id"] == 241837
    assert lines[1]["input"] == str(NOT_FOUND) and lines[1]["error"]
    assert lines[2]["input"] == str(empty) and "empty" in lines[2]["error"].lower()
    assert lines[3]["kb_id"] == 979612


def test_parse_exits_0_when_every_input_parsed() -> None:
    proc = run_cli("parse", str(GOOD_HTML), str(GOOD_TXT))
    assert proc.returncode == 0, proc.stderr
    assert [rec["kb_id"] for rec in jsonl(proc.stdout)] == [979612, 241837]


def test_parse_with_two_jobs_keeps_argument_order(tmp_path: Path) -> None:
    args = [str(GOOD_TXT), str(NOT_FOUND), str(GOOD_HTML)] * 3
    proc = run_cli("parse", "--jobs", "2", *args)
    assert proc.returncode == 1
    lines = jsonl(proc.stdout)
    assert [rec.get("kb_id", rec.get("input")) for rec in lines] == [241837, str(NOT_FOUND), 979612] * 3


def test_parse_json_format_prints_one_array() -> None:
    proc = run_cli("parse", "--format", "json", str(GOOD_HTML), str(NOT_FOUND))
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert isinstance(data, list) and len(data) == 2


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["parse"], id="no-paths"),
        pytest.param(["parse", "--format", "yaml", "x.html"], id="bad-format"),
        pytest.param(["parse", "--jobs", "0", "x.html"], id="bad-jobs"),
        pytest.param(["parse", "--no-such-option", "x.html"], id="unknown-option"),
        pytest.param(["no-such-command"], id="unknown-command"),
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "", "usage errors go to stderr"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", _commands(cli), ids=lambda p: " ".join(p) or "kbharvest")
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="kbharvest")
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"'kbharvest {' '.join(path)} --help' shows no example"


def test_parse_over_a_folder_prints_its_files_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b-page.txt").write_bytes(GOOD_TXT.read_bytes())
    (tmp_path / "a-page.html").write_bytes(GOOD_HTML.read_bytes())
    (tmp_path / "c-empty.html").write_bytes(b"")
    proc = run_cli("parse", str(tmp_path))
    assert proc.returncode == 1
    lines = jsonl(proc.stdout)
    assert [rec.get("kb_id") for rec in lines] == [979612, 241837, None]
    assert lines[2]["input"] == str(tmp_path / "c-empty.html")


def test_parse_table_format_names_every_input() -> None:
    proc = run_cli("parse", "--format", "table", GOOD_HTML.name, NOT_FOUND.name, cwd=GOLDEN)
    assert proc.returncode == 1
    assert "979612" in proc.stdout and NOT_FOUND.name in proc.stdout
