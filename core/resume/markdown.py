"""Markdown for text read from agent files, so that it cannot leave the place it is put.

A handoff brief quotes tasks, errors and tool inputs from files Baton did not write. In
CommonMark a fenced block ends only at a line of at least as many backticks as opened it,
and a code span only at a backtick run of exactly its own length: so a block is fenced with
a longer run than any inside the text, and a span uses a run no run inside matches. A span
never holds a line break (a new line could start a heading or close a list). Control
characters are dropped (the brief is ``cat``-ed into terminals) and invisible format
characters (U+202E and the other Unicode ``Cf`` characters, U+2028/9) are written as
``\\uXXXX``, so the text an agent reads is the text a person sees.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls except tab and newline (a carriage return is a line break to a reader).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BACKTICKS = re.compile(r"`+")


def _format_char(char: str) -> bool:
    return char in "\u2028\u2029" or unicodedata.category(char) == "Cf"


def clean(text: object) -> str:
    """Text fit to quote: ``\\r\\n`` and ``\\r`` become newlines, other control characters go,
    format characters become visible escapes."""
    value = "" if text is None else str(text)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    if value.isascii():
        return value
    return "".join(f"\\u{ord(c):04x}" if _format_char(c) else c for c in value)


def _longest_run(text: str) -> int:
    return max((len(m) for m in _BACKTICKS.findall(text)), default=0)


def fence(text: object, info: str = "text") -> str:
    """``text`` as a fenced code block that nothing inside it can close."""
    body = clean(text)
    ticks = "`" * max(3, _longest_run(body) + 1)
    if not body.endswith("\n"):
        body += "\n"
    return f"{ticks}{info}\n{body}{ticks}"


def code(text: object, limit: int | None = None) -> str:
    """``text`` as one inline code span (line breaks shown as ``⏎``), cut to ``limit``
    characters."""
    body = clean(text).replace("\n", " ⏎ ").replace("\t", " ")
    if limit is not None and len(body) > limit:
        body = body[: limit - 1] + "…"
    if not body.strip():
        return "`(empty)`"
    ticks = "`" * (_longest_run(body) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or body != body.strip(" ") else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"
