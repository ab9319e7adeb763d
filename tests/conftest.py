"""Shared pytest options and fixtures: the --regen-golden flag and the ../shared location."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# CI places the read-only reference material beside the repository.
SHARED = Path(__file__).resolve().parents[2] / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/golden/*.expected.json from the parser's output (review the diff!).",
    )


@pytest.fixture(scope="session")
def regen_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run should rewrite golden expectations instead of comparing."""
    return bool(request.config.getoption("--regen-golden"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (corpus, seed, eval); skips the test when it is not there."""
    if not SHARED.is_dir():
        pytest.skip(f"reference material not found at {SHARED} (CI puts ../shared beside the repo)")
    return SHARED
