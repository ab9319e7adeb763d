"""The one exception hierarchy of kbharvest: every error the library raises on purpose."""

from __future__ import annotations


class KbharvestError(Exception):
    """Base class of every error kbharvest raises on purpose.

    The CLI turns any of these into one clean message and a non-zero exit code; anything
    else reaching the CLI is a bug.
    """


class InputError(KbharvestError):
    """An input cannot be read or is not usable (binary, empty, too large, too deep).

    Raised by the parser for one input; the batch goes on with the next one. ``input`` names
    the offending input and ``reason`` says why, in words a user can act on.
    """

    def __init__(self, input: str, reason: str) -> None:
        super().__init__(f"{input}: {reason}")
        self.input = input
        self.reason = reason


class RejectedCapture(KbharvestError):
    """A readable page that is not a KB article (archive error, soft 404, sign-in page …).

    ``reason`` is a short machine-friendly phrase (e.g. ``"not found page"``); ``template``
    is what the detector saw, when it saw anything.
    """

    def __init__(self, input: str, reason: str, template: str | None = None) -> None:
        super().__init__(f"{input}: rejected: {reason}")
        self.input = input
        self.reason = reason
        self.template = template


class ParseError(KbharvestError):
    """The parser recognised a template but could not make a valid record of the page.

    ``template`` is the recognised layout; the caller reports the input as rejected.
    """

    def __init__(self, input: str, reason: str, template: str | None = None) -> None:
        super().__init__(f"{input}: {reason}")
        self.input = input
        self.reason = reason
        self.template = template


class ArchiveError(KbharvestError):
    """Talking to the web archive failed. Base class of the fetch errors below.

    ``url`` is the request that failed, when there was one.
    """

    def __init__(self, message: str, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class CdxError(ArchiveError):
    """The archive's CDX answer is none of the known forms (an HTML error page, say).

    Raised by ``kbharvest.cdx``; the crawl stops and keeps its resume points, so running the
    same command again continues where it stopped.
    """


class FetchError(ArchiveError):
    """One request still failed after every retry (5xx, resets, timeouts, truncated bodies).

    ``reason`` says what went wrong the last time. The crawler records the capture as
    failed with that reason and goes on; the next run tries it again.
    """

    def __init__(self, url: str, reason: str, retryable: bool = True) -> None:
        super().__init__(f"{url}: {reason}", url)
        self.reason = reason
        #: False when asking again cannot help (a body over the size cap, say)
        self.retryable = retryable


class RateLimitedError(ArchiveError):
    """The archive kept answering 429 Too Many Requests after the crawler paused for it.

    ``retry_after`` is the pause in seconds the crawler last honoured (the archive's
    Retry-After, or the default of at least 60 s). Wait at least that long, lower
    ``--cdx-per-min``/``--replay-per-min``, then run the same command again: nothing stored
    is lost.
    """

    def __init__(self, url: str, retry_after: float) -> None:
        super().__init__(
            f"{url}: the archive keeps answering 429 Too Many Requests; stopped to avoid being "
            f"blocked. Wait (at least {retry_after:.0f} s), lower the request rate and run again",
            url,
        )
        self.retry_after = retry_after


class ArchiveBlockedError(ArchiveError):
    """The archive refused the connection: this address is probably firewalled.

    archive.org blocks addresses that ignore 429s (an hour, doubling each time). Stop all
    crawling from this address, wait an hour or more, then rerun the same command.
    """

    def __init__(self, url: str, detail: str = "") -> None:
        super().__init__(
            f"{url}: connection refused by the archive — this address is probably blocked "
            f"(archive.org blocks for an hour, doubling, after ignored 429s). Stop crawling, "
            f"wait at least an hour and run the same command again{': ' + detail if detail else ''}",
            url,
        )


class OffsiteRequestError(ArchiveError):
    """A request (usually a redirect) pointed outside the configured archive's host.

    The crawler never follows it; the capture is recorded with the reason instead.
    """


class DatabaseInUseError(KbharvestError):
    """Another process holds the DuckDB file open for writing (DuckDB allows one writer).

    Raised when opening the database; ``path`` is the file and ``holder`` what DuckDB says
    holds the lock (program and PID), when it says. Wait for that process to finish, or stop it.
    """

    def __init__(self, path: str, holder: str | None = None) -> None:
        who = f" ({holder})" if holder else ""
        super().__init__(
            f"database is in use: {path} is open in another process{who}; "
            "wait for it to finish and try again"
        )
        self.path = path
        self.holder = holder


class DatabaseNotFoundError(KbharvestError):
    """The DuckDB file to read does not exist (or is not a kbharvest database).

    Raised by the read-only commands (query, search, show, stats); run ``kbharvest load`` or
    ``kbharvest build`` first, or pass ``--db``.
    """

    def __init__(self, path: str, reason: str = "no such database") -> None:
        super().__init__(f"{path}: {reason}; run `kbharvest build` (or `kbharvest load`) first")
        self.path = path
        self.reason = reason


class QueryError(KbharvestError):
    """DuckDB refused a query given to ``kbharvest query`` (syntax, unknown table, a write on the
    read-only connection …). ``message`` is DuckDB's own message; fix the SQL and run it again.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ArticleNotFoundError(KbharvestError):
    """``kbharvest show`` was asked for a KB id (and language) the database has no article for.

    ``kb_id`` and ``language`` say what was asked; ``languages`` lists the languages the
    database does have for that id (empty when none).
    """

    def __init__(self, kb_id: int, language: str | None = None,
                 languages: list[str] | None = None) -> None:
        what = f"KB{kb_id}" + (f" ({language})" if language else "")
        have = f"; languages loaded: {', '.join(languages)}" if languages else ""
        super().__init__(f"{what} is not in the database{have}")
        self.kb_id = kb_id
        self.language = language
        self.languages = languages or []


class ReleaseError(KbharvestError):
    """``kbharvest release`` cannot make the release as asked (a bad version string, a bad
    ``--created``). The message says what to change; nothing was written.
    """


class ReleaseExistsError(ReleaseError):
    """The release folder already exists: releases are never overwritten.

    ``path`` is the folder. Choose another ``--version``, or move that folder away first.
    """

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} already exists; releases are never overwritten "
                         "(choose another --version or move it away)")
        self.path = path


class ReleaseVerificationError(KbharvestError):
    """``kbharvest verify`` found a release folder that does not match its own records:
    a file missing, unlisted or changed (checksum), a Parquet file unreadable or with the
    wrong schema, or row counts that disagree between the data, manifest.json, the card,
    croissant.json and datapackage.json.

    ``path`` is the release folder and ``problems`` lists every problem found, each naming
    its file. Make the release again from the database (or fetch it again).
    """

    def __init__(self, path: str, problems: list[str]) -> None:
        shown = problems[:20]
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}"
                         ":\n" + "\n".join(f"  {p}" for p in shown) + more)
        self.path = path
        self.problems = problems
