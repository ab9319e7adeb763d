"""Pydantic models of the record contract in DESIGN.md: what ``kbharvest parse`` emits."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SectionKind = Literal[
    "summary",
    "introduction",
    "symptoms",
    "cause",
    "resolution",
    "workaround",
    "status",
    "more_information",
    "hotfix_information",
    "prerequisites",
    "restart_requirement",
    "registry_information",
    "hotfix_replacement",
    "file_information",
    "applies_to",
    "keywords",
    "other",
]
SECTION_KINDS: tuple[str, ...] = SectionKind.__args__  # type: ignore[attr-defined]

Architecture = Literal["x86", "x64", "ia64", "arm", "arm64"]
RestartRequirement = Literal["required", "not_required", "may_be_required", "unknown"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Section(_Strict):
    """One heading of the page and the text under it, up to the next heading."""

    kind: SectionKind = Field(description="What the section is, from the fixed vocabulary.")
    level: int = Field(
        ge=1,
        le=3,
        description="1 for the article's main headings (SYMPTOMS, CAUSE …), 2 for headings "
        "inside them (Prerequisites, File information …).",
    )
    heading: str = Field(description="The heading as printed on the page.")
    text: str = Field(
        description="Plain text up to the next heading; paragraph breaks kept as blank lines."
    )


class Prerequisites(_Strict):
    """What must be installed before the hotfix applies."""

    text: str = Field(description="The prerequisites section's text.")
    requirements: list[str] = Field(
        description="Products or service packs required, one string each, as named on the page."
    )
    kb_refs: list[int] = Field(description="KB ids named inside the prerequisites text, sorted.")


class Restart(_Strict):
    """Whether the computer must be restarted after applying the update."""

    requirement: RestartRequirement = Field(
        description="required, not_required, may_be_required or unknown."
    )
    text: str = Field(description="The restart requirement text the value was read from.")


class Replacement(_Strict):
    """Which earlier hotfixes this one supersedes."""

    replaces: list[int] = Field(
        description="KB ids this hotfix supersedes; empty when the page says it replaces none."
    )
    text: str = Field(description="The hotfix replacement text the ids were read from.")


class FileRow(_Strict):
    """One file shipped by the hotfix: a row of a file-information table."""

    file_name: str = Field(description="The file name, e.g. Mountmgr.sys.")
    file_version: str | None = Field(
        default=None, description="The file version as printed; null when not applicable."
    )
    file_size: int | None = Field(
        default=None, ge=0, description="Size in bytes ('1,234,567' becomes 1234567)."
    )
    date: dt.date | None = Field(default=None, description="The file date, ISO (YYYY-MM-DD).")
    time: str | None = Field(
        default=None, pattern=r"^\d{2}:\d{2}$", description="The file time, 24-hour HH:MM."
    )
    platform: str | None = Field(
        default=None, description="The platform column (x86, x64, IA-64, SP2 …) when present."
    )
    extra: dict[str, str] = Field(
        default_factory=dict,
        description="Columns not named above (SP requirement, service branch, folder …), "
        "keyed by their header.",
    )


class FileTable(_Strict):
    """One file-information table of the page."""

    caption: str | None = Field(
        default=None, description="The caption or heading above the table, as printed."
    )
    architecture: Architecture | None = Field(
        default=None, description="x86, x64, ia64, arm or arm64 when the caption names one."
    )
    rows: list[FileRow] = Field(default_factory=list, description="The file rows, in page order.")
    rows_missing: bool = Field(
        default=False,
        description="True when the page kept only the table's caption and none of its rows.",
    )


class Source(_Strict):
    """The archived capture a record was parsed from."""

    url: str | None = Field(default=None, description="The capture's original URL.")
    timestamp: str | None = Field(
        default=None,
        pattern=r"^\d{14}$",
        description="The archive's 14-digit capture timestamp (YYYYMMDDhhmmss).",
    )
    archive: str | None = Field(default=None, description="The archive the capture came from.")
    digest: str | None = Field(default=None, description="The archive's payload digest.")


class Article(_Strict):
    """One KB article as parsed from one capture: the record contract of DESIGN.md."""

    kb_id: int = Field(gt=0, description="The article number; from the page, else from the URL.")
    title: str | None = Field(default=None, description="The article title, without site chrome.")
    language: str | None = Field(
        default=None, description="Language tag such as en-us, from the URL or the page."
    )
    last_review: dt.date | None = Field(
        default=None, description="The 'Last Review' date (or the page's equivalent), ISO."
    )
    revision: str | None = Field(default=None, description="'Revision: 1.0' gives '1.0'.")
    template: str = Field(
        description="The page layout recognised: kb-classic (2003-2010), kb-2010 (2010-2015), "
        "help, topic (2016 on), ftp-htm (1990s MSDN-CD/FTP .HTM), ftp-txt (1990s text), "
        "markdown (Microsoft's docs), text (a page flattened to text), html (other HTML)."
    )
    sections: list[Section] = Field(
        default_factory=list, description="Every heading in page order, flat, with its level."
    )
    symptoms: str | None = Field(default=None, description="Whole text of the SYMPTOMS section.")
    cause: str | None = Field(default=None, description="Whole text of the CAUSE section.")
    resolution: str | None = Field(
        default=None,
        description="Whole text of the RESOLUTION section, level-2 headings as lines of their "
        "own, file-table rows left out.",
    )
    workaround: str | None = Field(default=None, description="Whole text of the WORKAROUND section.")
    status: str | None = Field(default=None, description="Whole text of the STATUS section.")
    more_information: str | None = Field(
        default=None, description="Whole text of the MORE INFORMATION section."
    )
    prerequisites: Prerequisites | None = Field(
        default=None, description="The hotfix prerequisites, when the page has them."
    )
    restart: Restart | None = Field(
        default=None, description="The restart requirement, when the page states one."
    )
    replacement: Replacement | None = Field(
        default=None, description="The hotfix replacement information, when present."
    )
    file_tables: list[FileTable] = Field(
        default_factory=list, description="File-information tables, in page order."
    )
    kb_refs: list[int] = Field(
        default_factory=list,
        description="Every other KB article the page refers to, sorted, no duplicates.",
    )
    applies_to: list[str] = Field(
        default_factory=list, description="Products from the 'Applies to' list."
    )
    keywords: list[str] = Field(
        default_factory=list, description="KB keywords such as kbfix, kbqfe, kbhotfixserver."
    )
    source: Source | None = Field(default=None, description="The capture this came from.")
    warnings: list[str] = Field(
        default_factory=list,
        description="What the parser noticed but could not place; text is never dropped silently.",
    )


class Rejection(_Strict):
    """An input that did not give an article, and why: what ``parse`` prints for it."""

    input: str = Field(description="The input (path, or path#record for WARC records).")
    error: str = Field(description="Why the input was rejected, in words a user can act on.")
    template: str | None = Field(
        default=None, description="What the detector recognised, when anything."
    )
    source: Source | None = Field(default=None, description="The capture, when it came from one.")
