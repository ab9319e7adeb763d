"""kbharvest: rescue the retired Microsoft Knowledge Base from web archives.

Library use::

    from kbharvest import parse_document
    article = parse_document(open("kb977153.html", "rb").read(), name="kb977153.html")
"""

from kbharvest.errors import InputError, KbharvestError, ParseError, RejectedCapture
from kbharvest.models import Article, FileRow, FileTable, Rejection, Section, Source

__version__ = "0.1.0"

__all__ = [
    "Article",
    "FileRow",
    "FileTable",
    "InputError",
    "KbharvestError",
    "ParseError",
    "RejectedCapture",
    "Rejection",
    "Section",
    "Source",
    "__version__",
    "fetch",
    "import_warcs",
    "parse_document",
    "parse_paths",
]

_LAZY = {"parse_document": "kbharvest.parse", "parse_paths": "kbharvest.parse",
         "fetch": "kbharvest.crawl", "import_warcs": "kbharvest.crawl"}


def __getattr__(name: str):
    # Lazy so that `import kbharvest` stays cheap for the CLI and worker processes.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
