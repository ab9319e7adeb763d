"""Parsing: any archived KB page (bytes) into a validated Article, or a named rejection.

``parse_document`` handles one page; ``parse_paths`` walks files, folders and WARC files and
yields one result per input in argument order, optionally fanning out to worker processes.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from kbharvest.errors import InputError, KbharvestError, ParseError, RejectedCapture
from kbharvest.models import Article, Rejection, Source
from kbharvest.parse.decode import MAX_TEXT_BYTES, decode_page
from kbharvest.parse.detect import detect_template, reject_reason
from kbharvest.parse.templates import TEMPLATES

PARSER_VERSION = "1"

__all__ = ["PARSER_VERSION", "ParseResult", "iter_inputs", "parse_document", "parse_paths"]


def parse_document(
    data: bytes | str,
    *,
    name: str = "<input>",
    url: str | None = None,
    source: Source | None = None,
    content_type: str | None = None,
) -> Article:
    """Parse one page into an Article.

    ``url`` (or ``source.url``) is the page's address when known: it supplies the KB id and
    language when the page itself does not. Raises InputError for unreadable input,
    RejectedCapture for a page that is not a KB article, ParseError when a recognised page
    cannot be turned into a valid record.
    """
    text = decode_page(data, name=name, content_type=content_type)
    if url is None and source is not None:
        url = source.url
    template = detect_template(text)
    reason = reject_reason(text, template)
    if reason:
        raise RejectedCapture(name, reason, template=template)
    try:
        article = TEMPLATES[template](text, url=url, name=name)
    except RecursionError as exc:
        raise InputError(name, "markup nested too deeply to parse") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err.get("loc", ()))
        raise ParseError(name, f"invalid record ({where}: {err['msg']})", template) from exc
    except ValueError as exc:
        # assemble() found no KB id anywhere: not an article we can name
        raise RejectedCapture(name, f"not a KB article: {exc}", template=template) from exc
    if not article.file_tables and not any(s.text for s in article.sections):
        # a title and nothing else: the support home page, an empty shell, a soft 404
        raise RejectedCapture(name, "no article text in the page", template=template)
    if source is not None:
        article = article.model_copy(update={"source": source})
    return article


class ParseResult:
    """One line of ``parse`` output: an article or a rejection, for one input.

    Results travel between processes as their JSON line (cheap to pickle, and what the CLI
    prints); the pydantic model is rebuilt only when asked for."""

    __slots__ = ("_model", "input", "json", "kind")

    def __init__(self, input: str, article: Article | None = None,
                 rejection: Rejection | None = None) -> None:
        model = article if article is not None else rejection
        if model is None:
            raise ValueError("a ParseResult holds an article or a rejection")
        self.input = input
        self.kind = "article" if article is not None else "rejection"
        self.json = model.model_dump_json()
        self._model: Article | Rejection | None = model

    def __getstate__(self) -> tuple:
        return (self.input, self.kind, self.json)

    def __setstate__(self, state: tuple) -> None:
        self.input, self.kind, self.json = state
        self._model = None

    def _get(self) -> Article | Rejection:
        if self._model is None:
            cls = Article if self.kind == "article" else Rejection
            self._model = cls.model_validate_json(self.json)
        return self._model

    @property
    def article(self) -> Article | None:
        return self._get() if self.kind == "article" else None  # type: ignore[return-value]

    @property
    def rejection(self) -> Rejection | None:
        return self._get() if self.kind == "rejection" else None  # type: ignore[return-value]

    def to_json(self) -> str:
        return self.json

    def to_dict(self) -> dict:
        return json.loads(self.json)


@dataclass(frozen=True)
class _Input:
    name: str
    data: bytes | None  # None: read ``path`` lazily in the worker
    path: str | None = None
    url: str | None = None
    source: Source | None = None
    content_type: str | None = None
    error: str | None = None  # an input already known to be bad


MAX_INPUT_BYTES = MAX_TEXT_BYTES  # files this size are refused before they are read


def iter_inputs(paths: Iterable[Path]) -> Iterator[_Input]:
    """Expand files, folders (sorted, recursively) and WARC files into single inputs."""
    from kbharvest.warcstore import is_warc, iter_captures

    for path in paths:
        path = Path(path)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if not files:
                yield _Input(str(path), None, error="folder holds no files")
            yield from iter_inputs(files)
        elif not path.exists():
            yield _Input(str(path), None, error="no such file")
        elif is_warc(path):
            try:
                for cap in iter_captures(path):
                    src = Source(
                        url=cap.url or None,
                        timestamp=cap.timestamp,
                        archive=cap.archive,
                        digest=cap.digest,
                    )
                    err = None
                    if cap.status is not None and cap.status != 200:
                        err = f"archived HTTP status {cap.status}"
                    yield _Input(cap.name, cap.body, url=cap.url, source=src,
                                 content_type=cap.content_type, error=err)
            except InputError as exc:
                yield _Input(str(path), None, error=exc.reason)
        else:
            yield _Input(str(path), None, path=str(path))


def _parse_one(item: _Input) -> ParseResult:
    if item.error:
        return ParseResult(item.name, rejection=Rejection(input=item.name, error=item.error,
                                                         source=item.source))
    try:
        data = item.data
        if data is None:
            assert item.path is not None
            size = os.path.getsize(item.path)
            if size > MAX_INPUT_BYTES:
                raise InputError(item.name, f"input too large ({size} bytes; limit "
                                            f"{MAX_INPUT_BYTES // (1024 * 1024)} MiB)")
            with open(item.path, "rb") as fh:
                data = fh.read()
        article = parse_document(data, name=item.name, url=item.url, source=item.source,
                                 content_type=item.content_type)
        return ParseResult(item.name, article=article)
    except (InputError, RejectedCapture, ParseError) as exc:
        template = getattr(exc, "template", None)
        return ParseResult(item.name, rejection=Rejection(
            input=item.name, error=exc.reason, template=template, source=item.source))
    except (KbharvestError, OSError) as exc:
        return ParseResult(item.name, rejection=Rejection(input=item.name, error=str(exc),
                                                         source=item.source))


def parse_paths(paths: Iterable[Path], jobs: int = 1) -> Iterator[ParseResult]:
    """Parse every input under ``paths``; one result per input, in order; never raises for
    a bad input (it becomes a rejection)."""
    items = iter_inputs(paths)
    if jobs <= 1:
        for item in items:
            yield _parse_one(item)
        return
    # Ordered, bounded fan-out: at most `window` batches in flight, so a huge WARC never
    # sits in memory at once; batches amortise the hand-off of small pages to workers.
    batch, window = 32, jobs * 4
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending: deque = deque()
        chunk: list[_Input] = []
        for item in items:
            chunk.append(item)
            if len(chunk) == batch:
                pending.append(pool.submit(_parse_many, chunk))
                chunk = []
                if len(pending) >= window:
                    yield from pending.popleft().result()
        if chunk:
            pending.append(pool.submit(_parse_many, chunk))
        while pending:
            yield from pending.popleft().result()


def _parse_many(items: list[_Input]) -> list[ParseResult]:
    return [_parse_one(item) for item in items]
