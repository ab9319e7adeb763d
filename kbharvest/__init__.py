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
    "parse_document",
    "parse_paths",
]


def __getattr__(name: str):
    # Lazy so that `import kbharvest` stays cheap for the CLI and worker processes.
    if name in ("parse_document", "parse_paths"):
        from kbharvest import parse

        return getattr(parse, name)
    raise AttributeError(name)
