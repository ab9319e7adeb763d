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
