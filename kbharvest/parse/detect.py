"""Which page template a document uses, decided from its content alone; and non-articles."""

from __future__ import annotations


def detect_template(text: str) -> str:
    return "text"


def reject_reason(text: str, template: str) -> str | None:
    return None
