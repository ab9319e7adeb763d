"""Start a real pywb (Webrecorder's Wayback implementation) on 127.0.0.1 over WARC files."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def _tool(name: str) -> str | None:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


def pywb_missing() -> str | None:
    """Why pywb cannot run here, or None."""
    if _tool("wayback") is None or _tool("wb-manager") is None:
        return "pywb is not installed (pip install 'kbharvest[test]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pywb:
    """A pywb collection ``coll`` in ``root`` served on a free port; ``url`` is the
    collection's address (what ``--archive`` takes)."""

    def __init__(self, root: Path, warcs: list[Path], collection: str = "coll") -> None:
        self.root = Path(root)
        self.collection = collection
        self.proc: subprocess.Popen | None = None
        self.port = 0
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        self.env = env
        run = dict(cwd=self.root, env=env, check=True, capture_output=True, timeout=120)
        subprocess.run([_tool("wb-manager"), "init", collection], **run)  # type: ignore[list-item]
        subprocess.run([_tool("wb-manager"), "add", collection, *map(str, warcs)], **run)  # type: ignore[list-item]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.collection}"

    def start(self, timeout: float = 60.0) -> Pywb:
        self.port = _free_port()
        with open(self.root / "pywb.log", "wb") as log:
            self.proc = subprocess.Popen(
                [_tool("wayback"), "-b", "127.0.0.1", "-p", str(self.port), "-d", str(self.root)],
                cwd=self.root, env=self.env, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pywb exited: {(self.root / 'pywb.log').read_text()[-2000:]}")
            try:
                r = requests.get(f"{self.url}/cdx?url=example.invalid/", timeout=2)
                if r.status_code < 500:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("pywb did not start in time")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
