"""A small Wayback Machine on 127.0.0.1 that speaks the CDX API and raw replay (``id_``) —
and misbehaves on demand: 429s, 503s, resets mid-body, truncated gzip, slow answers,
bogus duplicate Content-Encoding headers.

Its captures are :class:`~crawlkit.warcs.Capture` objects; ``faults`` is a list of
:class:`Fault` rules consumed as requests match them; ``log`` records every request.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from crawlkit.warcs import Capture

FIELDS = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]


def urlkey(url: str) -> str:
    """SURT-like key: host reversed, www. dropped, path and query lower-cased, args sorted."""
    if "://" not in url:
        url = "http://" + url
    p = urlsplit(url)
    host = (p.hostname or "").lower().removeprefix("www.")
    key = ",".join(reversed(host.split("."))) + ")" + (p.path or "/").lower()
    if p.query:
        key += "?" + "&".join(sorted(p.query.lower().split("&")))
    return key


def digest_of(body: bytes) -> str:
    return base64.b32encode(hashlib.sha1(body).digest()).decode()


@dataclass
class Fault:
    """Misbehave on the next ``times`` requests whose path+query contains ``match``."""

    kind: str  # 429 | 503 | reset | truncated_gzip | slow | dup_encoding | html_error
    match: str = ""
    times: int = 1
    delay: float = 0.0  # for slow
    retry_after: str | None = None  # for 429


@dataclass
class Logged:
    kind: str  # cdx | replay | other
    path: str
    t: float
    status: int
    client_port: int = 0  # one value across the log: one keep-alive connection


@dataclass
class FakeArchive:
    captures: list[Capture]
    page_size: int | None = None  # cap rows per CDX answer when the client sends a limit
    latency: float = 0.0
    cdx_form: str = "json"  # json | text (answer form, whatever the client asked)
    rewrite_locations: bool = True  # archive.org rewrites archived Location headers
    resume_keys: bool = True  # False: ignore showResumeKey (as pywb does), still honour limit
    digest_override: dict[tuple[str, str], str] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    on_request: Callable[[str, str], None] | None = None  # (kind, path), before answering

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeArchive:
        handler = type("Handler", (_Handler,), {"archive": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeArchive:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers for tests ---------------------------------------------------------------------

    def requests(self, kind: str) -> list[Logged]:
        with self._lock:
            return [r for r in self.log if r.kind == kind]

    def take_fault(self, target: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.times > 0 and f.match in target:
                    f.times -= 1
                    return f
        return None

    def rows(self) -> list[tuple[str, Capture]]:
        return sorted(((urlkey(c.url), c) for c in self.captures),
                      key=lambda kc: (kc[0], kc[1].timestamp))

    def cdx_row(self, key: str, c: Capture) -> dict[str, str]:
        body_digest = digest_of(c.body)
        return {
            "urlkey": key, "timestamp": c.timestamp, "original": c.url,
            "mimetype": "warc/revisit" if c.revisit else c.content_type.split(";")[0],
            "statuscode": "-" if c.revisit else str(c.status),
            "digest": self.digest_override.get((c.url, c.timestamp), body_digest),
            "length": str(len(c.body) + 300),
        }


class _Handler(BaseHTTPRequestHandler):
    archive: FakeArchive
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _log(self, kind: str, status: int) -> None:
        with self.archive._lock:
            self.archive.log.append(Logged(kind, self.path, time.monotonic(), status,
                                           self.client_address[1]))

    def do_GET(self) -> None:
        a = self.archive
        path = self.path
        self.fault: Fault | None = None  # the handler lives as long as a keep-alive connection
        kind = "cdx" if path.startswith("/cdx/search/cdx") else \
            "replay" if path.startswith("/web/") else "other"
        if a.on_request is not None:
            a.on_request(kind, path)
        if a.latency:
            time.sleep(a.latency)
        fault = a.take_fault(unquote(path))
        if fault is not None and self._fault(fault, kind):
            return
        if kind == "cdx":
            self._cdx()
        elif kind == "replay":
            self._replay()
        else:
            self._send(404, b"not here", kind=kind)

    # -- faults ---------------------------------------------------------------------------------

    def _fault(self, f: Fault, kind: str) -> bool:
        if f.kind == "429":
            extra = [("Retry-After", f.retry_after)] if f.retry_after else []
            self._send(429, b"Too Many Requests", extra, kind=kind)
            return True
        if f.kind == "503":
            self._send(503, b"Service Unavailable", kind=kind)
            return True
        if f.kind == "html_error":
            self._send(200, b"<html><body>Internal error</body></html>", kind=kind)
            return True
        if f.kind == "slow":
            time.sleep(f.delay)
            return False
        if f.kind == "reset":
            self._log(kind, -1)
            body = b"x" * 5000
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:1000])
            self.wfile.flush()
            # RST instead of FIN: the client sees a connection reset mid-body
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return True
        self.fault = f  # truncated_gzip, dup_encoding: applied when the answer is sent
        return False

    # -- CDX ------------------------------------------------------------------------------------

    def _cdx(self) -> None:
        a = self.archive
        q = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
        target = urlkey(q.get("url", ""))
        match = q.get("matchType", "exact")
        rows = [(k, c) for k, c in a.rows()
                if (k.startswith(target) if match == "prefix" else k == target)]
        if "resumeKey" in q:
            after = tuple(unquote(q["resumeKey"]).split(" ", 1))
            rows = [(k, c) for k, c in rows if (k, c.timestamp) > after]
        fl = q.get("fl", ",".join(FIELDS)).split(",")
        limit = int(q["limit"]) if "limit" in q else None
        if limit and a.page_size:
            limit = min(limit, a.page_size)
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit else rows
        key = None
        if more and q.get("showResumeKey") == "true" and rows and a.resume_keys:
            key = quote(f"{rows[-1][0]} {rows[-1][1].timestamp}")
        data = [[a.cdx_row(k, c)[f] for f in fl] for k, c in rows]
        if a.cdx_form == "json" and q.get("output") == "json":
            out = [fl, *data] if data else []
            if key:
                out += [[], [key]]
            body = json.dumps(out).encode()
            ctype = "application/json"
        else:
            lines = [" ".join(r) for r in data]
            if key:
                lines += ["", key]
            body = ("\n".join(lines) + "\n").encode() if lines else b""
            ctype = "text/plain"
        self._send(200, body, [("Content-Type", ctype)], kind="cdx")

    # -- replay ---------------------------------------------------------------------------------

    def _replay(self) -> None:
        a = self.archive
        rest = self.path[len("/web/"):]
        ts, _, original = rest.partition("id_/")
        caps = [c for k, c in a.rows() if k == urlkey(original)]
        if not caps or not ts.isdigit():
            self._send(404, b"<html><title>Wayback Machine</title>Wayback Machine has not "
                            b"archived that URL.</html>", kind="replay")
            return
        ts = (ts + "0" * 14)[:14]
        exact = [c for c in caps if c.timestamp == ts]
        if not exact:
            near = min(caps, key=lambda c: abs(_secs(c.timestamp) - _secs(ts)))
            self._send(302, b"", [
                ("Location", f"{a.url}/web/{near.timestamp}id_/{near.url}"),
                ("X-Archive-Redirect-Reason", f"found capture at {near.timestamp}"),
            ], kind="replay")
            return
        c = exact[0]
        body = c.body
        if c.revisit:  # a revisit replays the payload it points at
            body = c.body
        headers = [("Content-Type", c.content_type),
                   ("Memento-Datetime", format_datetime(_dt(c.timestamp), usegmt=True))]
        for k, v in c.headers:
            if k.lower() == "location" and a.rewrite_locations:
                target = v if "://" in v else "http://support.microsoft.com" + v
                v = f"{a.url}/web/{c.timestamp}id_/{target}"
            headers.append((k, v))
        self._send(c.status, body, headers, kind="replay")

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None,
              kind: str = "other") -> None:
        headers = list(headers or [])
        fault = getattr(self, "fault", None)
        if fault is not None and fault.kind == "truncated_gzip" and body:
            body = gzip.compress(body)
            body = body[: len(body) // 2]
            headers.append(("Content-Encoding", "gzip"))
        elif fault is not None and fault.kind == "dup_encoding" and body:
            body = gzip.compress(body)
            headers += [("Content-Encoding", "gzip"), ("Content-Encoding", "gzip")]
        self._log(kind, status)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)


def _dt(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def _secs(ts: str) -> float:
    return _dt(ts).timestamp()
