"""The only module that touches the network: one polite keep-alive session to one archive.

It owns the archive's address layout (Wayback Machine or pywb), the User-Agent, timeouts,
the per-endpoint rate limiters (CDX and replay), the process-wide pause after a 429,
retries with exponential backoff and jitter, body size caps and content decoding, and the
rule that no host but the archive's is ever contacted.
"""

from __future__ import annotations

import email.utils
import random
import re
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.exceptions import NewConnectionError

from kbharvest import __version__
from kbharvest.errors import (
    ArchiveBlockedError,
    FetchError,
    InputError,
    OffsiteRequestError,
    RateLimitedError,
)

DEFAULT_ARCHIVE = "https://web.archive.org"


@dataclass
class HttpConfig:
    """Politeness and safety settings. Defaults are 80% of archive.org's reported limits."""

    cdx_per_min: float = 24.0  # CDX and timemap share ~30/min per address (since 2026-06)
    replay_per_min: float = 480.0  # replay ~600/min
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 5  # attempts after the first, for 5xx, resets, timeouts, truncation
    backoff_base: float = 2.0  # seconds; doubled per attempt, with jitter
    backoff_max: float = 300.0
    pause_on_429: float = 60.0  # archive.org sends no Retry-After; never pause less
    max_429: int = 4  # consecutive 429 pauses before giving up with RateLimitedError
    max_body: int = 32 * 1024 * 1024  # decoded bytes kept for one capture
    contact: str | None = None


@dataclass(frozen=True)
class Archive:
    """Where an archive keeps its CDX server and its raw replay.

    A bare host (``https://web.archive.org``) has the Wayback Machine's layout
    (``/cdx/search/cdx``, ``/web/<ts>id_/<url>``); an URL with a path names a pywb collection
    (``http://host/coll`` → ``/coll/cdx``, ``/coll/<ts>id_/<url>``).
    """

    base: str
    scheme: str
    netloc: str
    cdx_url: str
    replay_prefix: str
    flavor: str = "wayback"  # "wayback" (resumeKey, fl=) or "pywb" (JSON lines, unpaged)

    @classmethod
    def from_url(cls, url: str) -> Archive:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(url, "archive must be an http(s) URL, e.g. https://web.archive.org")
        base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        if parts.path.strip("/"):
            return cls(base, parts.scheme, parts.netloc.lower(), base + "/cdx", base + "/",
                       "pywb")
        return cls(base, parts.scheme, parts.netloc.lower(), base + "/cdx/search/cdx",
                   base + "/web/")

    @property
    def name(self) -> str:
        """How captures record their archive (its base URL)."""
        return self.base

    def replay_url(self, timestamp: str, original: str) -> str:
        """The raw (``id_``) replay address of one capture."""
        return f"{self.replay_prefix}{timestamp}id_/{original}"

    def parse_replay_url(self, url: str) -> tuple[str, str] | None:
        """``(timestamp, original)`` when ``url`` is a replay address of this archive."""
        parts = urlsplit(url)
        if parts.netloc.lower() != self.netloc:
            return None
        prefix_path = urlsplit(self.replay_prefix).path
        path = url.split(parts.netloc, 1)[1]
        if not path.startswith(prefix_path):
            return None
        m = re.match(r"(\d{4,14})(?:[a-z]{2}_)?/(.+)$", path[len(prefix_path):], re.S)
        if not m:
            return None
        original = m.group(2)
        if not re.match(r"https?:/", original):
            original = "http://" + original
        original = re.sub(r"^(https?):/(?!/)", r"\1://", original)  # some archives squash //
        return (m.group(1) + "0" * 14)[:14], original

    def is_own(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == self.netloc


class PauseGate:
    """Process-wide pause: after a 429 every request of every kind waits until it ends."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.clock, self.sleep = clock, sleep
        self.until = 0.0
        self._lock = threading.Lock()

    def pause(self, seconds: float) -> None:
        with self._lock:
            self.until = max(self.until, self.clock() + seconds)

    def wait(self) -> float:
        waited = 0.0
        while True:
            left = self.until - self.clock()
            if left <= 0:
                return waited
            self.sleep(left)
            waited += left


class RateLimiter:
    """Even spacing: request starts are at least ``60/per_min`` seconds apart, so no
    60-second window ever holds more than ``per_min`` of them, and there are no bursts."""

    def __init__(self, per_min: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, headroom: float = 0.005) -> None:
        if per_min <= 0:
            raise InputError(str(per_min), "rate limit must be positive")
        # ``headroom`` (0.5%) absorbs network jitter: requests spaced exactly 60/per_min apart
        # could arrive a millisecond closer and put one too many into the archive's minute
        self.interval = 60.0 / per_min * (1 + headroom)
        self.clock, self.sleep = clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for the next slot; returns the seconds waited."""
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        wait = start - now
        if wait > 0:
            self.sleep(wait)
        return max(wait, 0.0)


@dataclass
class Response:
    """An archive's answer with its body read, decoded and size-checked."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    encoding_note: str | None = None  # what happened to Content-Encoding, when notable

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


@dataclass
class HttpStats:
    """Counters for progress and the summary."""

    requests: dict[str, int] = field(default_factory=lambda: {"cdx": 0, "replay": 0})
    bytes: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited: float = 0.0  # seconds spent in limiters and pauses
    starts: dict[str, list[float]] = field(default_factory=lambda: {"cdx": [], "replay": []})


class _Truncated(Exception):
    pass


class _Retry(Exception):
    def __init__(self, reason: str, min_wait: float = 0.0) -> None:
        super().__init__(reason)
        self.reason, self.min_wait = reason, min_wait


def _is_refused(exc: BaseException) -> bool:
    seen = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError):
            return True
        if isinstance(e, NewConnectionError) and "refused" in str(e).lower():
            return True
        stack += [e.__cause__, e.__context__, *(a for a in getattr(e, "args", ())
                                                 if isinstance(a, BaseException))]
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return False


def _retry_after(value: str | None, now_wall: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_wall)


def decode_body(raw: bytes, content_encoding: str | None, max_body: int) -> tuple[bytes, str | None]:
    """Undo Content-Encoding (gzip/deflate), tolerating bogus and duplicated headers.

    Returns ``(body, note)``; raises _Truncated for a cut-off gzip stream and FetchError
    (not retryable) past ``max_body`` decoded bytes.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    note = None
    if len(codings) != len(set(codings)):
        note = f"duplicate Content-Encoding header ({content_encoding})"
    body = raw
    for coding in reversed(list(dict.fromkeys(codings))):
        if coding in ("gzip", "x-gzip"):
            if not body.startswith(b"\x1f\x8b"):
                note = note or f"Content-Encoding {coding} on a body that is not compressed"
                continue
            body = _inflate(body, zlib.MAX_WBITS | 16, max_body)
        elif coding == "deflate":
            try:
                body = _inflate(body, zlib.MAX_WBITS, max_body)
            except (zlib.error, _Truncated):
                body = _inflate(body, -zlib.MAX_WBITS, max_body)
        else:
            note = note or f"unknown Content-Encoding {coding} kept as is"
    if len(body) > max_body:
        raise FetchError("body", f"body larger than {max_body} bytes", retryable=False)
    return body, note


def _inflate(data: bytes, wbits: int, max_body: int) -> bytes:
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(data, max_body + 1)
    except zlib.error as exc:
        raise _Truncated(f"corrupt compressed body ({exc})") from exc
    if len(out) > max_body:
        raise FetchError("body", f"decompressed body larger than {max_body} bytes",
                         retryable=False)
    if not d.eof:
        raise _Truncated("compressed body cut off before its end")
    return out


class ArchiveSession:
    """One keep-alive HTTP session to one archive, shared by the whole crawl.

    ``clock``/``sleep``/``rng`` are injectable so tests and benchmarks can run the politeness
    logic without waiting in real time.
    """

    def __init__(self, archive: str | Archive = DEFAULT_ARCHIVE, config: HttpConfig | None = None,
                 *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None,
                 on_wait: Callable[[str, float], None] | None = None) -> None:
        self.archive = archive if isinstance(archive, Archive) else Archive.from_url(archive)
        self.config = config or HttpConfig()
        self.clock, self.sleep = clock, sleep
        self.rng = rng or random.Random()
        self.on_wait = on_wait
        self.gate = PauseGate(clock, sleep)
        self.limiters = {
            "cdx": RateLimiter(self.config.cdx_per_min, clock, sleep),
            "replay": RateLimiter(self.config.replay_per_min, clock, sleep),
        }
        self.stats = HttpStats()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = self.user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.session.trust_env = False  # no proxies or netrc: only the archive is contacted

    @property
    def user_agent(self) -> str:
        contact = self.config.contact or "no contact given; see --contact"
        return f"kbharvest/{__version__} (+https://pypi.org/project/kbharvest/; {contact})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> ArchiveSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public calls ------------------------------------------------------------------

    def get_cdx(self, params: dict[str, str]) -> str:
        """One CDX request; the answer's text. Non-200 answers raise FetchError."""
        resp = self.request("cdx", self.archive.cdx_url, params)
        if resp.status != 200:
            raise FetchError(self.archive.cdx_url, f"CDX server answered HTTP {resp.status}",
                             retryable=resp.status >= 500)
        return resp.body.decode("utf-8", errors="replace")

    def get_replay(self, timestamp: str, original: str) -> Response:
        """Raw replay of one capture; redirects are returned, never followed."""
        return self.request("replay", self.archive.replay_url(timestamp, original))

    def request(self, kind: str, url: str, params: dict[str, str] | None = None) -> Response:
        """GET ``url`` politely: limiter, pause gate, retries. Only the archive's host."""
        if not self.archive.is_own(url):
            raise OffsiteRequestError(f"{url}: not on the archive's host {self.archive.netloc}",
                                      url)
        cfg = self.config
        attempt = 0
        hits_429 = 0
        while True:
            waited = self.gate.wait() + self.limiters[kind].acquire()
            if waited and self.on_wait:
                self.on_wait(kind, waited)
            self.stats.waited += waited
            self.stats.requests[kind] += 1
            self.stats.starts[kind].append(self.clock())
            try:
                resp = self._once(url, params)
            except _Retry as exc:
                reason, min_wait = exc.reason, exc.min_wait
            else:
                if resp.status == 429:
                    hits_429 += 1
                    self.stats.rate_limited += 1
                    ra = _retry_after(resp.header("Retry-After"), time.time())
                    pause = max(cfg.pause_on_429, ra or 0.0)
                    if hits_429 > cfg.max_429:
                        raise RateLimitedError(url, pause)
                    self.gate.pause(pause)
                    if self.on_wait:
                        self.on_wait("429", pause)
                    continue
                # an archived 5xx replays with Memento-Datetime: that is data, not a failure
                if resp.status >= 500 and not resp.header("Memento-Datetime"):
                    ra = _retry_after(resp.header("Retry-After"), time.time())
                    reason, min_wait = f"archive answered HTTP {resp.status}", ra or 0.0
                else:
                    return resp
            attempt += 1
            self.stats.retries += 1
            if attempt > cfg.retries:
                raise FetchError(url, f"{reason} (gave up after {attempt} attempts)")
            delay = min(cfg.backoff_max, cfg.backoff_base * 2 ** (attempt - 1))
            delay = max(min_wait, delay * self.rng.uniform(0.5, 1.5))
            if self.on_wait:
                self.on_wait("backoff", delay)
            self.stats.waited += delay
            self.sleep(delay)

    # -- one attempt ---------------------------------------------------------------------

    def _once(self, url: str, params: dict[str, str] | None) -> Response:
        cfg = self.config
        try:
            r = self.session.get(url, params=params, allow_redirects=False, stream=True,
                                 timeout=(cfg.connect_timeout, cfg.read_timeout))
        except requests.ConnectionError as exc:
            if _is_refused(exc):
                raise ArchiveBlockedError(url) from exc
            if isinstance(exc, requests.ConnectTimeout):
                raise _Retry("connect timeout") from exc
            raise _Retry(f"connection failed ({type(exc).__name__})") from exc
        except requests.Timeout as exc:
            raise _Retry("timed out") from exc
        try:
            raw = self._read_capped(r)
        except (requests.RequestException, Urllib3HTTPError, OSError) as exc:
            r.close()
            raise _Retry(f"connection broken mid-body ({type(exc).__name__})") from exc
        finally:
            r.close()
        self.stats.bytes += len(raw)
        headers = list(r.raw.headers.items()) if r.raw is not None else list(r.headers.items())
        try:
            body, note = decode_body(raw, r.headers.get("Content-Encoding"), cfg.max_body)
        except _Truncated as exc:
            raise _Retry(str(exc)) from exc
        except FetchError as exc:
            raise FetchError(url, exc.reason, retryable=False) from exc
        return Response(url=r.url, status=r.status_code, headers=headers, body=body,
                        encoding_note=note)

    def _read_capped(self, r: requests.Response) -> bytes:
        # Read the bytes as sent (no transparent decoding: a bogus duplicate
        # Content-Encoding would make urllib3 fail); cap before decoding too.
        limit = self.config.max_body
        chunks, size = [], 0
        while True:
            chunk = r.raw.read(64 * 1024, decode_content=False)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise FetchError(r.url, f"body larger than {limit} bytes", retryable=False)
            chunks.append(chunk)
        return b"".join(chunks)
